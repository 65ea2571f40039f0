"""Where the library's owner lives, and the trips away from there.

**Home** is the area with photos on the most distinct months, then days, across the
library, not the most photos: one trip with 2,000 photos must not outweigh two years of
a few photos a week. Positions are binned into cells of ``cell_deg`` degrees; the best
few cells are candidates, each scored by the distinct days (and months) of photos within
``radius_km`` of it. The home point is the median over those days of each day's median
position. Confidence grows with the evidence (days at home, full at 10) and shrinks when a
second area, at least twice the radius away, has nearly as many days (a move, a second home).

**Trips** are maximal runs of events away from home (farther than ``away_km``), with no
event at home between them and no silence longer than ``trip_max_gap_days``. Events
without a place that fall inside such a run are part of it. A run counts as a trip when
it includes a night away, or when it goes at least ``day_trip_km`` from home (a day
trip far away), and holds at least ``trip_min_photos`` photos (one stray far-off fix is
not a journey); a day at the beach 30 km away is neither.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from curation.events.geo import haversine_km, valid_position
from curation.events.records import EventsError

AWAY, AT_HOME, UNKNOWN = 1, 0, -1
_FULL_EVIDENCE_DAYS = 10


class HomeFinder:
    """``fit(lat, lon, day)`` with one entry per geotagged photo (``day``: integer day
    number, e.g. days since 1970). After fit: ``lat_``, ``lon_`` (None when there is too
    little evidence), ``confidence_``, ``n_days_``, ``n_months_``."""

    def __init__(
        self, *, radius_km: float = 25.0, min_days: int = 3, cell_deg: float = 0.05, candidates: int = 64
    ) -> None:
        self.radius_km = radius_km
        self.min_days = min_days
        self.cell_deg = cell_deg
        self.candidates = candidates

    def _validate(self) -> None:
        if not self.radius_km > 0:
            raise EventsError(f"radius_km must be > 0 (got {self.radius_km}). Try 25.")
        if not (isinstance(self.min_days, int | np.integer) and self.min_days >= 1):
            raise EventsError(f"min_days must be a whole number >= 1 (got {self.min_days!r}). Try 3.")
        if not 0 < self.cell_deg <= 1:
            raise EventsError(f"cell_deg must be in (0, 1] degrees (got {self.cell_deg}). Try 0.05.")
        if not (isinstance(self.candidates, int | np.integer) and self.candidates >= 1):
            raise EventsError(f"candidates must be a whole number >= 1 (got {self.candidates!r}). Try 64.")

    def fit(self, lat: np.ndarray, lon: np.ndarray, day: np.ndarray) -> HomeFinder:
        self._validate()
        lat, lon, day = (np.asarray(x) for x in (lat, lon, day))
        if not (lat.shape == lon.shape == day.shape):
            raise EventsError("lat, lon and day must have one entry per photo (equal lengths).")
        keep = valid_position(lat, lon)
        lat, lon, day = lat[keep].astype(float), lon[keep].astype(float), day[keep].astype(np.int64)
        self.lat_ = self.lon_ = None
        self.confidence_ = 0.0
        self.n_days_ = self.n_months_ = 0
        if np.unique(day).size < self.min_days:
            return self

        row = np.floor((lat + 90) / self.cell_deg).astype(np.int64)
        col = np.floor((lon + 180) / self.cell_deg).astype(np.int64)
        _, cell = np.unique(row * (int(360 / self.cell_deg) + 2) + col, return_inverse=True)
        cell = cell.ravel()
        n_cells = int(cell.max()) + 1
        counts = np.bincount(cell, minlength=n_cells)
        c_lat = np.bincount(cell, weights=lat, minlength=n_cells) / counts
        c_lon = np.bincount(cell, weights=lon, minlength=n_cells) / counts
        day0 = int(day.min())
        span = int(day.max()) - day0 + 1
        pair_codes = np.unique(cell * span + (day - day0))  # one entry per (cell, day)
        pairs = np.stack([pair_codes // span, pair_codes % span + day0], axis=1)
        days_per_cell = np.bincount(pairs[:, 0], minlength=n_cells)
        # Stable: ties between candidate cells resolve by cell order, so runs agree.
        ranked = np.lexsort((np.arange(n_cells), -days_per_cell))[: self.candidates]

        scores = []
        for c in ranked:
            near = haversine_km(c_lat[c], c_lon[c], c_lat, c_lon) <= self.radius_km
            days = np.unique(pairs[near[pairs[:, 0]], 1])
            scores.append((_months(days), days.size, int(c)))
        best_months, best_days, best = max(scores, key=lambda s: (s[0], s[1], -s[2]))

        in_home = haversine_km(c_lat[best], c_lon[best], lat, lon) <= self.radius_km
        per_day = pd.DataFrame({"day": day[in_home], "lat": lat[in_home], "lon": lon[in_home]})
        medians = per_day.groupby("day", sort=True)[["lat", "lon"]].median()
        self.lat_ = float(medians["lat"].median())
        self.lon_ = float(medians["lon"].median())
        home_near = haversine_km(self.lat_, self.lon_, lat, lon) <= self.radius_km
        home_days = np.unique(day[home_near])
        self.n_days_ = int(home_days.size)
        self.n_months_ = _months(home_days)

        far = [s for s in scores if haversine_km(self.lat_, self.lon_, c_lat[s[2]], c_lon[s[2]]) > 2 * self.radius_km]
        second_days = max((s[1] for s in far), default=0)
        evidence = min(1.0, self.n_days_ / _FULL_EVIDENCE_DAYS)
        self.confidence_ = round(evidence * self.n_days_ / (self.n_days_ + second_days), 3)
        return self


def _months(days: np.ndarray) -> int:
    if days.size == 0:
        return 0
    return int(np.unique(days.astype("datetime64[D]").astype("datetime64[M]")).size)


def find_trips(
    events: pd.DataFrame, *, max_gap_days: float = 7.0, day_trip_km: float = 150.0, min_photos: int = 2
) -> np.ndarray:
    """Trip number of each event (-1: not in a trip), numbered in time order.

    ``events`` is in time order with ``start_s``/``end_s`` (local seconds), ``first_day``/
    ``last_day`` (activity day numbers), ``state`` (AWAY, AT_HOME, UNKNOWN) and
    ``distance_km`` (from home; NaN when unknown).
    """
    if not max_gap_days > 0:
        raise EventsError(f"trip_max_gap_days must be > 0 (got {max_gap_days}). Try 7.")
    if not day_trip_km >= 0:
        raise EventsError(f"day_trip_km must be >= 0 (got {day_trip_km}). Try 150.")
    if not (isinstance(min_photos, int | np.integer) and min_photos >= 1):
        raise EventsError(f"trip_min_photos must be a whole number >= 1 (got {min_photos!r}). Try 2.")
    state = events["state"].to_numpy()
    n_photos = events["n_photos"].to_numpy()
    start = events["start_s"].to_numpy()
    end = events["end_s"].to_numpy()
    first_day = events["first_day"].to_numpy()
    last_day = events["last_day"].to_numpy()
    dist = events["distance_km"].to_numpy(dtype=float)
    trip = np.full(len(events), -1, dtype=np.int64)
    max_gap_s = max_gap_days * 86400

    runs: list[list[int]] = []
    current: list[int] | None = None
    pending: list[int] = []  # events without a place since the last away event
    last_end = None
    for i, s in enumerate(state):
        if s == AWAY:
            if current is not None and start[i] - last_end <= max_gap_s:
                current.extend(pending)
                current.append(i)
            else:
                current = [i]
                runs.append(current)
            pending = []
            last_end = max(end[i], last_end or end[i])
        elif s == AT_HOME:
            current, pending = None, []
        elif current is not None:
            pending.append(i)

    n = 0
    for run in runs:
        nights = int(last_day[run].max() - first_day[run].min())
        farthest = np.nanmax(dist[run]) if np.isfinite(dist[run]).any() else 0.0
        if (nights >= 1 or farthest >= day_trip_km) and n_photos[run].sum() >= min_photos:
            trip[run] = n
            n += 1
    return trip
