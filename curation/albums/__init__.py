"""Memories albums: which albums a library deserves, which photos go in, in what order.

    from curation.albums import AlbumSettings, LibraryInputs, build_albums
    inputs = LibraryInputs.from_records(photos, events, trips, persons)   # or the stage's loader
    albums = build_albums(inputs, AlbumSettings(min_photos=6), today=date(2024, 7, 14))

Pure: typed records in, typed records out; ``curation.pipeline.albums_stage`` reads them
from and writes them to the store, and ``curation.titles`` writes their titles.
Importing this package reads no file and loads no model.
"""

from curation.lazy import lazy_exports

# Lazy exports (PEP 562): `curation.settings` imports AlbumSettings, and loading the
# settings must stay cheap (the dashboard's start-up).
_EXPORTS = {
    "album_id": "builder",
    "build_albums": "builder",
    "CANDIDATE_RULES": "candidates",
    "Candidate": "candidates",
    "LibraryIndex": "candidates",
    "find_candidates": "candidates",
    "AlbumSettings": "config",
    "season_of": "facts",
    "Album": "records",
    "AlbumFacts": "records",
    "AlbumKind": "records",
    "AlbumPhoto": "records",
    "EventRecord": "records",
    "Home": "records",
    "LibraryInputs": "records",
    "Person": "records",
    "PhotoRecord": "records",
    "PhotoTable": "records",
    "Place": "records",
    "PlaceLevel": "records",
    "Season": "records",
    "TripRecord": "records",
    "Focus": "selection",
    "Selection": "selection",
    "Strata": "selection",
    "select_photos": "selection",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "CANDIDATE_RULES",
    "Album",
    "AlbumFacts",
    "AlbumKind",
    "AlbumPhoto",
    "AlbumSettings",
    "Candidate",
    "EventRecord",
    "Focus",
    "Home",
    "LibraryIndex",
    "LibraryInputs",
    "Person",
    "PhotoRecord",
    "PhotoTable",
    "Place",
    "PlaceLevel",
    "Season",
    "Selection",
    "Strata",
    "TripRecord",
    "album_id",
    "build_albums",
    "find_candidates",
    "season_of",
    "select_photos",
]
