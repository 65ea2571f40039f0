"""Which library folder the user means: the demo library, a sample set, or a typed path.

Plain Python: validation with one clear message per problem, so the page only renders it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from curation.settings import Settings

DEMO_MANIFEST = "manifest.json"  # written last by curation.demo.library.build_demo_library


class Source(StrEnum):
    DEMO = "demo"
    SAMPLE = "sample"
    FOLDER = "folder"

    @property
    def label(self) -> str:
        return {"demo": "Demo library", "sample": "Sample set", "folder": "Folder"}[self.value]


@dataclass(frozen=True)
class LibraryChoice:
    source: Source
    root: Path | None  # resolved; None when nothing usable is chosen
    problem: str | None = None  # why it cannot be run, as a sentence with the fix
    needs_build: bool = False  # the demo library is not built yet: the run builds it first

    @property
    def runnable(self) -> bool:
        return self.root is not None and self.problem is None


def sample_sets(samples: Path) -> list[str]:
    """The sample photo sets: the non-hidden subfolders of ``samples``."""
    if not samples.is_dir():
        return []
    return sorted(p.name for p in samples.iterdir() if p.is_dir() and not p.name.startswith("."))


def demo_is_built(path: Path) -> bool:
    return (path / DEMO_MANIFEST).is_file()


def choose_library(
    source: Source, settings: Settings, *, sample_set: str | None = None, folder: str = ""
) -> LibraryChoice:
    if source is Source.DEMO:
        path = settings.demo_library_path.resolve()
        if demo_is_built(path):
            return LibraryChoice(source, path)
        if path.is_dir() and any(path.iterdir()):
            return LibraryChoice(
                source,
                None,
                f"{path} is not empty and holds no demo library ({DEMO_MANIFEST} is missing). "
                "Empty or remove that folder, or set CURATION_DEMO_LIBRARY to another path.",
            )
        return LibraryChoice(source, path, needs_build=True)
    if source is Source.SAMPLE:
        if not sample_set:
            return LibraryChoice(
                source,
                None,
                f"No sample sets found in {settings.samples}. "
                "Set CURATION_SAMPLES to the folder that holds them.",
            )
        return _folder_choice(source, settings.samples / sample_set)
    text = folder.strip()
    if not text:
        return LibraryChoice(source, None, "Type the path of a folder of photos.")
    return _folder_choice(source, Path(text).expanduser())


def _folder_choice(source: Source, path: Path) -> LibraryChoice:
    resolved = path.resolve()
    if not resolved.exists():
        hint = f" (relative paths start at {Path.cwd()})" if not path.is_absolute() else ""
        return LibraryChoice(source, None, f"Folder not found: {resolved}{hint}. Check the path.")
    if not resolved.is_dir():
        return LibraryChoice(
            source, None, f"{resolved} is a file, not a folder. Give the folder that holds the photos."
        )
    return LibraryChoice(source, resolved)


def initial_choice(last_root: str | None, settings: Settings) -> dict[str, object]:
    """Widget values that point at the last library run (or the demo library when none)."""
    values: dict[str, object] = {"library_source": Source.DEMO, "folder_path": ""}
    if last_root is None:
        return values
    root = Path(last_root)
    if root == settings.demo_library_path.resolve():
        return values
    if settings.samples.is_dir() and root.parent == settings.samples.resolve():
        return {"library_source": Source.SAMPLE, "sample_set": root.name, "folder_path": ""}
    return {"library_source": Source.FOLDER, "folder_path": str(root)}
