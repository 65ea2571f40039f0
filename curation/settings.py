"""One settings object for the whole project (pydantic-settings).

Values come from, in order: explicit arguments, environment variables prefixed
``CURATION_`` (nested fields use ``__``, e.g. ``CURATION_LABEL_STUDIO__URL``),
a ``.env`` file, and ``.streamlit/secrets.toml`` (section ``[curation]``) for
secrets. Secrets are ``SecretStr`` and never printed.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from curation.albums.config import AlbumSettings
from curation.distributed.config import RaySettings
from curation.engagement import EngagementSettings
from curation.events.settings import EventSettings

REPO_ROOT = Path(__file__).resolve().parent.parent


class IngestSettings(BaseModel):
    max_pixels: int = Field(
        100_000_000,
        description="Refuse images above this many pixels (decompression-bomb guard).",
    )
    thumb_sizes: tuple[int, int] = Field(
        (256, 1024), description="Longest side of the small and large thumbnails."
    )
    workers: int = Field(2, description="Threads that decode and hash photos (the work runs in C without the GIL: one per core).")
    min_year: int = Field(1990, description="Capture dates before this year are absurd.")


class FaceSettings(BaseModel):
    threads: int = Field(
        2, ge=1, description="Photos the faces stage scans side by side (dlib's HOG scan releases the GIL)."
    )
    min_face_fraction: float = Field(
        0.04,
        gt=0,
        lt=1,
        description="Smallest face looked for, as a share of the photo's longest side. 0.04 finds every "
        "labelled face of the sample sets; 0.06 costs 40 % less CPU and missed 2 of 86 (docs/faces.md). "
        "The model version records a non-default value, so a change rescans the library.",
    )

    def model_options(self) -> dict[str, float]:
        """Keyword arguments for ``curation.faces.create_face_model``."""
        return {"min_face_fraction": self.min_face_fraction}


class LabelStudioSettings(BaseModel):
    url: str = "http://127.0.0.1:8080"
    api_key: SecretStr = SecretStr("")
    # Must equal the server's LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT (scripts/labelstudio.sh: /).
    document_root: Path = Path("/")


class LLMSettings(BaseModel):
    enabled: bool = False
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "gpt-4o-mini"
    api_key: SecretStr = SecretStr("")
    timeout_s: float = 20.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CURATION_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    data_dir: Path = Field(REPO_ROOT / "var", description="Databases, caches, runs.")
    db_path: Path | None = Field(None, description="DuckDB file; default data_dir/curation.duckdb.")
    cache_dir: Path | None = Field(None, description="Thumbnails etc.; default data_dir/cache.")
    model_cache_dir: Path | None = Field(
        None,
        description="Exported ONNX models, named by the weights' hash, so every data_dir shares one "
        "export; default $XDG_CACHE_HOME/curation-studio/models (~/.cache/curation-studio/models).",
    )
    samples: Path = Field(
        REPO_ROOT.parent / "shared" / "samples",
        description="Folder of labelled sample photo sets (tests, evaluation).",
    )
    demo_library: Path | None = Field(None, description="Default data_dir/demo-library.")

    embedder: str = "efficientnet_lite0"
    title_generator: str = "grounded"
    language: str = "en"

    ingest: IngestSettings = IngestSettings()
    faces: FaceSettings = FaceSettings()
    events: EventSettings = EventSettings()
    albums: AlbumSettings = AlbumSettings()
    engagement: EngagementSettings = EngagementSettings()
    label_studio: LabelStudioSettings = LabelStudioSettings()
    llm: LLMSettings = LLMSettings()
    ray: RaySettings = RaySettings()  # the ray backend of `curation run` (docs/scale.md)

    @property
    def database(self) -> Path:
        return self.db_path or self.data_dir / "curation.duckdb"

    @property
    def cache(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"

    @property
    def model_cache(self) -> Path:
        """Where exported models are kept. Not under data_dir: the export (a torch import and an
        ONNX trace, about 12 s) then happens once per machine, not once per database."""
        if self.model_cache_dir is not None:
            return self.model_cache_dir
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "curation-studio" / "models"

    @property
    def engagement_database(self) -> Path:
        return self.engagement.database(self.data_dir)

    @property
    def demo_library_path(self) -> Path:
        return self.demo_library or self.data_dir / "demo-library"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            _StreamlitSecretsSource(settings_cls),
        )


class _StreamlitSecretsSource(PydanticBaseSettingsSource):
    """Reads the ``[curation]`` table of ``.streamlit/secrets.toml`` if it exists."""

    path = REPO_ROOT / ".streamlit" / "secrets.toml"

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {}
        with self.path.open("rb") as f:
            return dict(tomllib.load(f).get("curation", {}))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
