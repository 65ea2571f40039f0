"""Events, trips and places: a library's photos grouped the way a person remembers them.

Importing this package does no work: the GeoNames data and holiday calendars load on
first use. See docs/events.md.

    from curation.events import build_events, EventSettings
    result = build_events(photos_frame, EventSettings())
    result.events, result.trips, result.photo_events, result.exclusions, result.home
"""

from curation.lazy import lazy_exports

# Lazy exports (PEP 562): `curation.settings` imports EventSettings, and the settings
# must not pull pandas and the geocoder into every process (the dashboard's start-up).
_EXPORTS = {
    "build_events": "build", "prepare_photos": "build",
    "HolidayCalendar": "calendar", "season_of": "calendar",
    "HomeFinder": "home", "find_trips": "home",
    "place_by_neighbours": "placement",
    "GeoNamesPlaces": "places", "default_rgeocoder": "places", "name_places": "places",
    "Boundary": "records", "BoundaryAnswer": "records", "BoundaryRule": "records",
    "Event": "records", "EventsError": "records", "EventsResult": "records", "Exclusion": "records",
    "ExclusionCode": "records", "Home": "records", "HomeMethod": "records", "Place": "records",
    "PlacedBy": "records", "PlaceSource": "records", "Season": "records", "Trip": "records",
    "EventSegmenter": "segment",
    "EventSettings": "settings",
}  # fmt: skip


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "Boundary",
    "BoundaryAnswer",
    "BoundaryRule",
    "Event",
    "EventSegmenter",
    "EventSettings",
    "EventsError",
    "EventsResult",
    "Exclusion",
    "ExclusionCode",
    "GeoNamesPlaces",
    "HolidayCalendar",
    "Home",
    "HomeFinder",
    "HomeMethod",
    "Place",
    "PlaceSource",
    "PlacedBy",
    "Season",
    "Trip",
    "build_events",
    "default_rgeocoder",
    "find_trips",
    "name_places",
    "place_by_neighbours",
    "prepare_photos",
    "season_of",
]
