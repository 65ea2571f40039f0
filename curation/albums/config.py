"""Album rules and selection knobs, one pydantic model so it can nest in ``Settings``
(``CURATION_ALBUMS__MIN_PHOTOS=6``) or be passed to the stage directly."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from curation.taxonomy import AlbumKind, Theme


class AlbumSettings(BaseModel):
    model_config = {"frozen": True}

    kinds: tuple[AlbumKind, ...] = Field(tuple(AlbumKind), description="Album kinds to make.")
    # Photobook bounds: a printed album below ~12 photos looks empty, above ~60 it is a
    # catalogue. Small demo libraries lower min_photos.
    min_photos: int = Field(12, ge=1, description="Fewest eligible photos an album needs (and its smallest size).")
    max_photos: int = Field(60, ge=1, description="Most photos an album holds.")
    target_fraction: float = Field(
        0.5, gt=0, le=1, description="Album size as a share of its eligible photos, within min..max."
    )
    max_albums_per_kind: int = Field(
        20, ge=0, description="Keep the best N albums of each kind (0 = no limit); trips and events add up fast."
    )

    trip_min_nights: int = Field(1, ge=0, description="A trip album needs at least this many nights away.")
    person_min_occasions: int = Field(3, ge=1, description="A person album needs the person at this many events/days.")
    person_min_months: int = Field(3, ge=1, description="... spread over at least this many calendar months.")
    include_unnamed_people: bool = Field(
        True, description="Make person albums for persons nobody has named yet (titled 'A familiar face')."
    )
    together_min_occasions: int = Field(3, ge=1, description="People together at this many events/days.")
    together_max_group: int = Field(3, ge=2, le=4, description="Largest group considered for 'together' albums.")
    theme_min_score: float = Field(0.5, ge=0, le=1, description="A photo belongs to its top theme above this score.")
    theme_min_occasions: int = Field(3, ge=1, description="Theme photos must come from this many events/days.")
    excluded_themes: tuple[Theme, ...] = Field(
        (Theme.PEOPLE_PORTRAITS,), description="Themes that never get an album (people have their own albums)."
    )
    year_min_months: int = Field(3, ge=1, le=12, description="A year in review needs photos in this many months.")
    on_this_day_window_days: int = Field(0, ge=0, le=15, description="Photos within +- this many days count.")
    on_this_day_min_years: int = Field(1, ge=1, description="Earlier years that must have photos on the day.")

    default_quality: float = Field(0.5, ge=0, le=1, description="Quality of a photo not scored by the vision stage.")
    face_bonus: float = Field(0.15, ge=0, le=1, description="Relevance added to photos that show people.")
    mmr_lambda: float = Field(
        0.7, ge=0, le=1, description="MMR trade-off: 1 = only quality, 0 = only variety."
    )
    duplicate_similarity: float = Field(
        0.95, gt=0, le=1, description="Cosine above which two photos are never both picked."
    )
    time_redundancy: float = Field(
        0.5, ge=0, le=1, description="Weight of 'taken within minutes of a picked photo' in redundancy."
    )
    max_pool: int = Field(2000, ge=10, description="Candidates kept for MMR (best per event/day) in big albums.")

    @model_validator(mode="after")
    def _check_bounds(self) -> AlbumSettings:
        if self.max_photos < self.min_photos:
            raise ValueError(
                f"max_photos ({self.max_photos}) is below min_photos ({self.min_photos}); "
                "raise max_photos or lower min_photos"
            )
        return self
