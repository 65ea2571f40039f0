"""Parameters of the events stage, as one pydantic model.

Meant to hang off the project's ``Settings`` as ``settings.events`` (environment
``CURATION_EVENTS__MIN_GAP_H=1.5`` etc.). Until that is wired, the stage falls back to
these defaults. The estimators validate ranges at fit time with a message per rule.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class EventSettings(BaseModel):
    # --- segmentation (curation.events.segment)
    gap_factor: float = Field(
        8.0, description="A gap splits when it is this many times the typical gap around it."
    )
    gap_window: int = Field(10, description="Gaps on each side that define the typical gap.")
    gap_context_h: float = Field(
        12.0, description="Only gaps starting this close in time count towards the typical gap."
    )
    min_gap_h: float = Field(1.0, description="Gaps shorter than this never split on time alone.")
    max_gap_h: float = Field(5.0, description="Gaps longer than this always split.")
    day_start_hour: float = Field(
        4.0, description="Local hour at which one day ends and the next begins (a party at 1 am is the evening before)."
    )
    night_gap_h: float = Field(
        2.0, description="Across the day boundary, a longer gap than this splits (continuous parties do not)."
    )
    jump_km: float = Field(25.0, description="Consecutive photos this far apart are different places.")
    move_km: float = Field(5.0, description="A move at least this long made at transit speed splits.")
    transit_kmh: float = Field(30.0, description="Speed above which a move means transport between places.")

    # --- photos without a reliable time (curation.events.placement)
    seq_max_gap: int = Field(
        20, description="Largest file-number distance to the dated neighbours that places a photo."
    )
    seq_edge_gap: int = Field(
        2, description="At the end of a folder's numbering, place a photo this close to its one neighbour."
    )
    gps_margin_km: float = Field(
        0.5, description="GPS placement: a photo within an event's area plus this margin matches it."
    )

    # --- home and trips (curation.events.home)
    home_radius_km: float = Field(25.0, description="Photos this close to a point count for it as home.")
    home_min_days: int = Field(3, description="Fewest geotagged days needed to name a home.")
    away_km: float = Field(50.0, description="Events farther than this from home are away.")
    trip_max_gap_days: float = Field(
        7.0, description="Away events further apart than this (with nothing at home between) are separate trips."
    )
    day_trip_km: float = Field(
        150.0, description="A trip without a night away counts only when it goes this far."
    )
    trip_min_photos: int = Field(
        2, description="Fewer photos than this away are not a trip (one stray far-off fix is not a journey)."
    )
    inherit_days: float = Field(
        3.0, description="An event without GPS takes the place of the events around it when both are this close."
    )

    # --- places (curation.events.places)
    city_snap_km: float = Field(
        7.0, description="A suburb within this distance of a bigger place's centre takes that place's name."
    )
    dominant_share: float = Field(
        0.75, description="A place holding this share of the photos names the whole event or trip."
    )
    wide_event_km: float = Field(
        10.0, description="Events wider than this are named from their photos, not only their centroid."
    )
