"""Engagement analytics: what users do with the Memories the engine makes.

The vocabulary shared by the modules lives here; the modules each do one thing:

- ``generate``     realistic, messy synthetic engagement exports (Parquet), seeded
- ``clean``        raw exports (Parquet/CSV paths, globs, s3:// URIs) -> cleaned tables + counts per rule
- ``sandbox``      builds the engagement database and runs user SQL read-only, with limits
- ``queries``      named queries (``sql/queries/*.sql``) with typed, bound parameters
- ``experiments``  A/B analysis: Wilson intervals, z-test, sample-ratio check, MDE
- ``charts``       a plotly figure for a result frame (pure functions, no Streamlit)

Nothing is imported or read here beyond these enums and the settings model, so
``import curation.engagement`` is cheap; import the module you need.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field


class EventType(StrEnum):
    IMPRESSION = "impression"  # a Memory was shown (feed card, push, widget)
    OPEN = "open"  # the user opened it
    SHARE = "share"
    EDIT = "edit"  # any edit: reorder, remove, retitle, change cover


class AlbumKind(StrEnum):
    TRIP = "trip"
    EVENT = "event"
    PERSON = "person"
    TOGETHER = "together"  # two or more people together
    THEME = "theme"  # food, pets, sunsets ...
    YEAR = "year"  # year in review
    ON_THIS_DAY = "on_this_day"


class TitleGenerator(StrEnum):
    GROUNDED = "grounded"  # template titles from places, dates and people
    LLM = "llm"


class Platform(StrEnum):
    IOS = "ios"
    ANDROID = "android"
    WEB = "web"


class Table(StrEnum):
    """The engagement tables a source can feed, in the order they are cleaned."""

    USERS = "users"
    ALBUMS = "albums"
    EVENTS = "events"
    ORDERS = "orders"
    ASSIGNMENTS = "assignments"


UNKNOWN_COUNTRY = "unknown"


class EngagementSettings(BaseModel):
    """For ``Settings.engagement`` (env ``CURATION_ENGAGEMENT__SOURCES='["s3://...", ...]'``)."""

    sources: list[str] = Field(
        default_factory=list,
        description="Exports: Parquet/CSV paths, globs, s3:// URIs, folders, or 'table=location'.",
    )
    db_path: Path | None = Field(None, description="Engagement database; default data_dir/engagement.duckdb.")
    row_limit: int = Field(10_000, ge=1, description="Rows the SQL runner returns at most.")
    time_limit_s: float = Field(10.0, gt=0, description="Seconds a user query may run.")
    threads: int | None = Field(None, ge=1, description="DuckDB threads for builds and queries (default: all).")
    memory_limit: str | None = Field(None, description="DuckDB memory limit for user queries, e.g. '4GB'.")

    def database(self, data_dir: Path) -> Path:
        return self.db_path or Path(data_dir) / "engagement.duckdb"
