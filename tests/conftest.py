from __future__ import annotations

from pathlib import Path

import pytest

from curation.settings import Settings


@pytest.fixture(scope="session")
def samples() -> Path:
    """The shared labelled sample sets (CURATION_SAMPLES); tests that need them skip without."""
    path = Settings().samples
    if not path.is_dir():
        pytest.skip(f"sample photo sets not found at {path} (set CURATION_SAMPLES)")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated in a temporary data dir."""
    return Settings(data_dir=tmp_path / "data")
