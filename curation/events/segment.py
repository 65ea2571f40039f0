"""Adaptive event segmentation of a photo timeline.

An event is one activity in one place: photos taken close together in time, in one
area, on one local day. Three kinds of boundary, checked between consecutive photos in
capture-time order:

* **time** (after PhotoTOC, Platt et al. 2003, and Cooper et al. 2005, "Temporal event
  clustering for digital photo collections"): a gap splits when it is ``gap_factor``
  times the typical gap around it, i.e. the median, in log space, of the ``gap_window``
  gaps on each side that start within ``context_h`` hours of it. A 90-minute pause ends an afternoon of photos taken every two
  minutes; it does not end a day of photos taken every hour. The threshold is clipped to
  ``[min_gap_h, max_gap_h]`` so a burst never splits on a coffee break and a sparse
  stretch never runs for days.
* **night**: crossing the local day boundary (``day_start_hour``, 4 am by default, so a
  party at 1 am is still the evening before) splits unless the photos go on through the
  night with gaps under ``night_gap_h``. Local wall-clock time is used on purpose: that is
  the day a person remembers, whatever the time zone.
* **place**: consecutive geotagged photos ``jump_km`` apart, or ``move_km`` apart at more
  than ``transit_kmh`` (a drive or a train between two places), split. Photos without GPS
  between the two go with the side of the larger time gap. A single fix far from both of
  its neighbours, which agree with each other, is a GPS glitch and is ignored.

Every gap also gets a **margin**: the log of how far it is past the cut-off of the rule
closest to deciding it (``ln(gap / threshold)`` for time, ``ln(gap / night_gap_h)`` across
the day boundary, ``ln(km / jump_km)`` or the weaker of ``ln(km / move_km)`` and
``ln(kmh / transit_kmh)`` for place), the largest of them. Positive: the gap splits; near
zero: the segmenter nearly decided the other way. Those boundaries go to people
(``labeling``: "same event?"), and their answers come back to :meth:`EventSegmenter.fit`
as constraints: a "different events" answer forces a split between the two photos, a
"same event" answer forbids every split between them.

Only photos with a reliable capture time take part; curation.events.placement handles
the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from curation.events.geo import haversine_km, valid_position
from curation.events.records import BoundaryAnswer, EventsError
from curation.events.settings import EventSettings

_HOUR = 3600.0
# Photos taken within the same second by two devices: a speed over a zero-length
# interval means nothing, so intervals are at least this long when computing speed.
_MIN_SPEED_INTERVAL_S = 60.0
# A GPS glitch is judged only between neighbours this close in time.
_GLITCH_SPAN_S = 6 * _HOUR
# Frames closer than this are one burst, not a rhythm.
_BURST_S = 5.0
# Faster than any airliner: a fix that needs this speed to reach is wrong.
_IMPOSSIBLE_KMH = 1000.0
# Gaps within this factor of their cut-off, either side, are recorded as doubtful
# (``EventsResult.boundaries``, the ``event_boundaries`` table): |margin| < ln 2.
BOUNDARY_DOUBT = float(np.log(2.0))


class BoundaryKind:
    NONE = 0
    TIME = 1
    NIGHT = 2
    PLACE = 3
    LABEL = 4  # a person said the photos on either side are different events


# Which rule a gap's margin comes from (``rules_``): the one closest to splitting it.
RULE_NAMES = {BoundaryKind.TIME: "time", BoundaryKind.NIGHT: "night", BoundaryKind.PLACE: "place"}


def sort_order(photos: pd.DataFrame) -> np.ndarray:
    """Positions of ``photos`` in capture-time order; ties by path then id so that the
    order (and every event id built on it) is the same on every run."""
    n = len(photos)
    times = pd.to_datetime(photos["taken_at"]).to_numpy().astype("datetime64[ns]").astype(np.int64)
    ids = photos["photo_id"].to_numpy(dtype=np.int64) if "photo_id" in photos.columns else np.arange(n)
    order = np.lexsort((ids, times))
    if "rel_path" not in photos.columns or n < 2:
        return order
    # Photos taken in the same instant (bursts, copies) are rare: order just those by path.
    sorted_times = times[order]
    tied = np.flatnonzero(sorted_times[1:] == sorted_times[:-1])
    if tied.size:
        paths = photos["rel_path"].to_numpy(dtype=object)
        starts = np.flatnonzero(np.r_[True, sorted_times[1:] != sorted_times[:-1]])
        ends = np.r_[starts[1:], n]
        for a, b in zip(starts, ends, strict=True):
            if b - a > 1:
                run = order[a:b]
                order[a:b] = sorted(run, key=lambda i: (str(paths[i]), ids[i]))
    return order


def local_seconds(taken_at: pd.Series) -> np.ndarray:
    """Local wall-clock time as integer seconds since 1970 (naive: no time zone applied)."""
    values = pd.to_datetime(taken_at).to_numpy().astype("datetime64[s]")
    return values.astype(np.int64)


def activity_day(seconds: np.ndarray, day_start_hour: float) -> np.ndarray:
    """Day number of each local time, with days that begin at ``day_start_hour``."""
    return np.floor_divide(seconds - int(day_start_hour * _HOUR), 86400)


class EventSegmenter:
    """Splits photos with reliable capture times into events.

    ``fit(photos)`` needs columns ``taken_at`` (naive local datetime, no missing values),
    ``lat`` and ``lon`` (NaN without GPS); ``rel_path`` and ``photo_id`` break ties.
    After fit: ``labels_`` (event number per input row, numbered in time order),
    ``order_`` (row positions in time order), ``boundaries_`` (BoundaryKind per gap in
    time order), ``thresholds_`` (seconds, per gap) and ``gps_outlier_`` (per input row).
    Per gap also: ``gaps_`` (seconds), ``margins_`` (log ratio to the cut-off of the rule
    closest to deciding it; > 0 splits), ``rules_`` (that rule, a BoundaryKind),
    ``distance_km_`` (between the fixes a place rule compared, else NaN) and
    ``labelled_`` (a person's answer decided it). ``answers_`` counts the answers passed
    to fit: applied, conflicting (a "different events" inside a "same event"), unknown
    (a photo not among those segmented).
    """

    def __init__(
        self,
        *,
        gap_factor: float = 8.0,
        gap_window: int = 10,
        context_h: float = 12.0,
        min_gap_h: float = 1.0,
        max_gap_h: float = 5.0,
        day_start_hour: float = 4.0,
        night_gap_h: float = 2.0,
        jump_km: float = 25.0,
        move_km: float = 5.0,
        transit_kmh: float = 30.0,
    ) -> None:
        self.gap_factor = gap_factor
        self.gap_window = gap_window
        self.context_h = context_h
        self.min_gap_h = min_gap_h
        self.max_gap_h = max_gap_h
        self.day_start_hour = day_start_hour
        self.night_gap_h = night_gap_h
        self.jump_km = jump_km
        self.move_km = move_km
        self.transit_kmh = transit_kmh

    @classmethod
    def from_settings(cls, settings: EventSettings) -> EventSegmenter:
        return cls(
            gap_factor=settings.gap_factor,
            gap_window=settings.gap_window,
            context_h=settings.gap_context_h,
            min_gap_h=settings.min_gap_h,
            max_gap_h=settings.max_gap_h,
            day_start_hour=settings.day_start_hour,
            night_gap_h=settings.night_gap_h,
            jump_km=settings.jump_km,
            move_km=settings.move_km,
            transit_kmh=settings.transit_kmh,
        )

    # ------------------------------------------------------------------ validation

    def _validate_params(self) -> None:
        if not self.gap_factor > 1:
            raise EventsError(
                f"gap_factor must be > 1 (got {self.gap_factor}): a gap splits when it is that many "
                "times the typical gap, so 1 or less would split almost everywhere. Try 8."
            )
        if not (isinstance(self.gap_window, int | np.integer) and self.gap_window >= 1):
            raise EventsError(f"gap_window must be a whole number >= 1 (got {self.gap_window!r}). Try 10.")
        if not self.context_h > 0:
            raise EventsError(f"context_h must be > 0 hours (got {self.context_h}). Try 12.")
        if not 0 < self.min_gap_h <= self.max_gap_h:
            raise EventsError(
                f"Need 0 < min_gap_h <= max_gap_h (got min_gap_h={self.min_gap_h}, max_gap_h={self.max_gap_h}). "
                "Try min_gap_h=1, max_gap_h=5."
            )
        if not 0 <= self.day_start_hour < 24:
            raise EventsError(f"day_start_hour must be in [0, 24) (got {self.day_start_hour}). Try 4.")
        if not self.night_gap_h > 0:
            raise EventsError(f"night_gap_h must be > 0 hours (got {self.night_gap_h}). Try 2.")
        if not 0 < self.move_km <= self.jump_km:
            raise EventsError(
                f"Need 0 < move_km <= jump_km (got move_km={self.move_km}, jump_km={self.jump_km}). "
                "Try move_km=5, jump_km=25."
            )
        if not self.transit_kmh > 0:
            raise EventsError(f"transit_kmh must be > 0 (got {self.transit_kmh}). Try 30.")

    @staticmethod
    def _validate_frame(photos: pd.DataFrame) -> None:
        if not isinstance(photos, pd.DataFrame):
            raise EventsError(f"photos must be a pandas DataFrame, not {type(photos).__name__}.")
        missing = [c for c in ("taken_at", "lat", "lon") if c not in photos.columns]
        if missing:
            raise EventsError(
                f"photos lacks the column(s) {', '.join(missing)}; pass taken_at (local time) "
                "and lat/lon (NaN without GPS) for each photo."
            )
        if photos["taken_at"].isna().any():
            n = int(photos["taken_at"].isna().sum())
            raise EventsError(
                f"{n} photo(s) have no taken_at. Segment only photos with a reliable capture time; "
                "build_events() places the others by their neighbours."
            )

    @property
    def version(self) -> str:
        """Names the rules and parameters, for the boundaries it records (``model_version``)."""
        params = (
            f"{self.gap_factor}|{self.gap_window}|{self.context_h}|{self.min_gap_h}|{self.max_gap_h}|"
            f"{self.day_start_hour}|{self.night_gap_h}|{self.jump_km}|{self.move_km}|{self.transit_kmh}"
        )
        return f"events-segmenter@{hashlib.sha1(params.encode()).hexdigest()[:8]}"

    # ------------------------------------------------------------------ fit

    def fit(self, photos: pd.DataFrame, *, answers: Iterable[BoundaryAnswer] = ()) -> EventSegmenter:
        """Segment ``photos``; ``answers`` are people's "same event?" answers on pairs of photo
        ids (needs a ``photo_id`` column), applied after the rules: a "same event" removes every
        boundary between the two photos, a "different events" adds one (at the gap between them
        with the largest margin) unless there is one already."""
        self._validate_params()
        self._validate_frame(photos)
        n = len(photos)
        order = sort_order(photos)
        seconds = local_seconds(photos["taken_at"])[order]
        lat = photos["lat"].to_numpy(dtype=float)[order]
        lon = photos["lon"].to_numpy(dtype=float)[order]

        gaps = np.maximum(np.diff(seconds).astype(float), 1.0)
        kinds = np.zeros(max(n - 1, 0), dtype=np.int8)
        thresholds = self._thresholds(gaps, seconds)
        kinds[gaps > thresholds] = BoundaryKind.TIME

        day = activity_day(seconds, self.day_start_hour)
        crosses = np.diff(day) != 0
        night = crosses & (gaps > self.night_gap_h * _HOUR)
        kinds[night & (kinds == BoundaryKind.NONE)] = BoundaryKind.NIGHT
        # Per rule, how far past its cut-off each gap is (log ratio; > 0 splits).
        rule_margins = np.full((3, kinds.size), -np.inf)
        if kinds.size:
            rule_margins[0] = np.log(gaps / thresholds)
            rule_margins[1, crosses] = np.log(gaps[crosses] / (self.night_gap_h * _HOUR))
        distance = np.full(kinds.size, np.nan)

        instant = seconds.astype(float)
        if "tz_offset_min" in photos.columns:
            # Speeds need real elapsed time: use UTC where the file states its offset.
            offset = pd.to_numeric(photos["tz_offset_min"], errors="coerce").to_numpy(dtype=float)[order]
            known = np.isfinite(offset)
            instant[known] -= offset[known] * 60
        else:
            known = np.zeros(n, dtype=bool)
        self._instant, self._instant_known = instant, known
        outlier_sorted = self._gps_outliers(seconds, lat, lon)
        self._place_boundaries(kinds, gaps, seconds, lat, lon, outlier_sorted, rule_margins[2], distance)
        rules = np.argmax(rule_margins, axis=0).astype(np.int8) + 1 if kinds.size else np.zeros(0, np.int8)
        margins = rule_margins.max(axis=0) if kinds.size else np.zeros(0)
        ids = photos["photo_id"].to_numpy(dtype=np.int64)[order] if "photo_id" in photos.columns else None
        labelled = self._apply_answers(kinds, margins, ids, answers)

        labels_sorted = np.concatenate([[0], np.cumsum(kinds != BoundaryKind.NONE)]) if n else np.zeros(0, np.int64)
        labels = np.empty(n, dtype=np.int64)
        labels[order] = labels_sorted
        outlier = np.zeros(n, dtype=bool)
        outlier[order] = outlier_sorted

        self.order_ = order
        self.labels_ = labels
        self.boundaries_ = kinds
        self.thresholds_ = thresholds
        self.gaps_ = gaps
        self.margins_ = margins
        self.rules_ = rules
        self.distance_km_ = distance
        self.labelled_ = labelled
        self.gps_outlier_ = outlier
        self.n_events_ = int(labels_sorted[-1] + 1) if n else 0
        return self

    def fit_predict(self, photos: pd.DataFrame, *, answers: Iterable[BoundaryAnswer] = ()) -> np.ndarray:
        return self.fit(photos, answers=answers).labels_

    def _apply_answers(
        self, kinds: np.ndarray, margins: np.ndarray, ids: np.ndarray | None, answers: Iterable[BoundaryAnswer]
    ) -> np.ndarray:
        """People's answers over the rules (see :meth:`fit`); returns which gaps they decided."""
        labelled = np.zeros(kinds.size, dtype=bool)
        answers = list(answers)
        self.answers_ = {"applied": 0, "conflicting": 0, "unknown": 0}
        if not answers:
            return labelled
        if ids is None:
            raise EventsError("answers name photos by photo_id: pass a photo_id column with them.")
        position = {int(p): k for k, p in enumerate(ids)}
        spans: list[tuple[int, int, bool]] = []
        for answer in answers:
            a, b = position.get(int(answer.photo_a)), position.get(int(answer.photo_b))
            if a is None or b is None or a == b:
                self.answers_["unknown"] += 1
                continue
            spans.append((min(a, b), max(a, b), bool(answer.same_event)))
        # "Same event" first: it forbids every boundary in its span ...
        forbidden = np.zeros(kinds.size, dtype=bool)
        for i, j, same in spans:
            if same:
                forbidden[i:j] = True
                labelled[i:j] = True
                self.answers_["applied"] += 1
        kinds[forbidden] = BoundaryKind.NONE
        # ... then "different events" needs one boundary in its span, where none is forbidden.
        for i, j, same in spans:
            if same:
                continue
            if j == i + 1:
                labelled[i] = True
            if (kinds[i:j] != BoundaryKind.NONE).any():
                self.answers_["applied"] += 1
                continue
            allowed = np.flatnonzero(~forbidden[i:j]) + i
            if allowed.size == 0:  # inside a "same event" span: the two answers cannot both hold
                self.answers_["conflicting"] += 1
                continue
            g = int(allowed[np.argmax(margins[allowed])])
            kinds[g] = BoundaryKind.LABEL
            labelled[g] = True
            self.answers_["applied"] += 1
        return labelled

    # ------------------------------------------------------------------ pieces

    def _thresholds(self, gaps: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        if gaps.size == 0:
            return gaps.copy()
        typical = np.exp(self._typical_log_gap(np.log(gaps), seconds[:-1]))
        return np.clip(self.gap_factor * typical, self.min_gap_h * _HOUR, self.max_gap_h * _HOUR)

    def _typical_log_gap(self, log_gaps: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Median log gap among the ``gap_window`` gaps on each side that start within
        ``context_h`` of this one (the gap itself included). In log space the median is the
        geometric median: one long gap barely moves it. The time bound keeps the rhythm
        local: the photos of last week's party say nothing about this afternoon, and a
        gap with no neighbours in reach is its own measure, so it never splits by itself
        below ``max_gap_h``."""
        w = self.gap_window
        pad_v = np.concatenate([np.full(w, np.nan), log_gaps, np.full(w, np.nan)])
        pad_t = np.concatenate([np.full(w, np.nan), starts.astype(float), np.full(w, np.nan)])
        values = np.lib.stride_tricks.sliding_window_view(pad_v, 2 * w + 1).copy()
        times = np.lib.stride_tricks.sliding_window_view(pad_t, 2 * w + 1)
        values[~(np.abs(times - starts[:, None]) <= self.context_h * _HOUR)] = np.nan
        # A burst (frames a few seconds apart) is one moment: its gaps would make every
        # pause around it look long.
        values[values < np.log(_BURST_S)] = np.nan
        values[:, w] = log_gaps  # the gap itself always counts
        values.sort(axis=1)  # NaN last
        k = np.sum(~np.isnan(values), axis=1)  # >= 1: the gap itself
        rows = np.arange(values.shape[0])
        return (values[rows, (k - 1) // 2] + values[rows, k // 2]) / 2

    def _elapsed_h(self, seconds: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Hours between photos i and j (UTC when both offsets are known), at least a minute."""
        both = self._instant_known[i] & self._instant_known[j]
        local = np.abs(seconds[j] - seconds[i]).astype(float)
        utc = np.abs(self._instant[j] - self._instant[i])
        return np.maximum(np.where(both, utc, local), _MIN_SPEED_INTERVAL_S) / _HOUR

    def _impossible(self, seconds: np.ndarray, lat: np.ndarray, lon: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        d = haversine_km(lat[i], lon[i], lat[j], lon[j])
        return (d >= self.jump_km) & (d / self._elapsed_h(seconds, i, j) > _IMPOSSIBLE_KMH)

    def _gps_outliers(self, seconds: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Fixes to ignore: (1) a fix that could only be reached faster than a plane, when
        dropping it (and not its neighbour) makes the track possible again; (2) a spike far
        from both neighbours, which agree with each other, within a few hours."""
        outlier = np.zeros(len(seconds), dtype=bool)
        geo = np.flatnonzero(valid_position(lat, lon))
        if geo.size < 2:
            return outlier
        m = geo.size
        def possible(i: int, j: int) -> bool:
            return not self._impossible(seconds, lat, lon, np.array([i]), np.array([j]))[0]

        for k in np.flatnonzero(self._impossible(seconds, lat, lon, geo[:-1], geo[1:])):
            right_ok = k + 2 >= m or possible(geo[k], geo[k + 2])  # drop the later fix
            left_ok = k == 0 or possible(geo[k - 1], geo[k + 1])  # drop the earlier fix
            if right_ok and not left_ok:
                outlier[geo[k + 1]] = True
            elif left_ok and not right_ok:
                outlier[geo[k]] = True
        if geo.size < 3:
            return outlier
        a, m, b = geo[:-2], geo[1:-1], geo[2:]
        d_prev = haversine_km(lat[a], lon[a], lat[m], lon[m])
        d_next = haversine_km(lat[m], lon[m], lat[b], lon[b])
        d_skip = haversine_km(lat[a], lon[a], lat[b], lon[b])
        glitch = (
            (d_prev >= self.jump_km)
            & (d_next >= self.jump_km)
            & (d_skip < self.move_km)
            & (seconds[b] - seconds[a] <= _GLITCH_SPAN_S)
        )
        outlier[m[glitch]] = True
        return outlier

    def _place_boundaries(
        self,
        kinds: np.ndarray,
        gaps: np.ndarray,
        seconds: np.ndarray,
        lat: np.ndarray,
        lon: np.ndarray,
        outlier: np.ndarray,
        place_margin: np.ndarray,
        distance: np.ndarray,
    ) -> None:
        """Place boundaries into ``kinds``; the place rule's margin and distance go, per pair of
        consecutive fixes, to the gap a place split would take (the longest between them)."""
        geo = np.flatnonzero(valid_position(lat, lon) & ~outlier)
        if geo.size < 2:
            return
        a, b = geo[:-1], geo[1:]
        dist = haversine_km(lat[a], lon[a], lat[b], lon[b])
        hours = np.maximum(seconds[b] - seconds[a], _MIN_SPEED_INTERVAL_S) / _HOUR
        moved = (dist >= self.jump_km) | ((dist >= self.move_km) & (dist / hours >= self.transit_kmh))
        # The gap between two fixes a place split would take: the longest (the first on a tie).
        segment = np.repeat(np.arange(a.size), b - a)
        span = np.arange(a[0], b[-1])
        longest = np.maximum.reduceat(gaps[a[0] : b[-1]], a - a[0])
        is_longest = np.flatnonzero(gaps[span] == longest[segment])
        _, first = np.unique(segment[is_longest], return_index=True)
        at = span[is_longest[first]]
        # Time or night already split them: the place rule has nothing left to decide there.
        split_already = np.maximum.reduceat((kinds[a[0] : b[-1]] != BoundaryKind.NONE).astype(np.int8), a - a[0]) > 0
        with np.errstate(divide="ignore"):
            margin = np.maximum(
                np.log(dist / self.jump_km),
                np.minimum(np.log(dist / self.move_km), np.log(dist / hours / self.transit_kmh)),
            )
        open_ = ~split_already
        place_margin[at[open_]] = margin[open_]
        distance[at[open_]] = dist[open_]
        kinds[at[moved & open_]] = BoundaryKind.PLACE
