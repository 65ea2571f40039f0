"""A built-in demo library so the app works offline on a fresh clone.

Importing this package does no work; ``build_demo_library`` reads the sample photos
only when called. See docs/demo-library.md.
"""

from curation.demo.library import (
    BadKind,
    DemoEvent,
    DemoLibraryError,
    DemoFile,
    DemoManifest,
    DemoSource,
    DemoTrip,
    FileKind,
    build_demo_library,
    load_manifest,
)

__all__ = [
    "BadKind",
    "DemoEvent",
    "DemoLibraryError",
    "DemoFile",
    "DemoManifest",
    "DemoSource",
    "DemoTrip",
    "FileKind",
    "build_demo_library",
    "load_manifest",
]
