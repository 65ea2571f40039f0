"""Photos without a reliable capture time: place them by their neighbours, or say why not.

A photo whose only date is the file's mtime (copying, syncing and editing change it), or
that has no date at all, cannot be put on the timeline by itself. Two kinds of evidence
are sound enough to place it anyway:

1. **The camera's file numbering.** ``DCIM/100APPLE/IMG_0124.JPG`` between ``IMG_0123``
   and ``IMG_0126``, both dated and in the same event, was taken during that event.
   Neighbours must be in the same folder with the same prefix and at most
   ``seq_max_gap`` numbers away. At the end of a folder's numbering, one neighbour at
   most ``seq_edge_gap`` away is enough. Between two different events it is ambiguous.
2. **Its GPS position**, when it falls inside exactly one event's area (the event's
   geotagged photos' radius plus ``gps_margin_km``). Near home many events share the
   area, so this mostly helps on trips.

The mtime itself is never used: a bulk copy gives hundreds of files the same evening.
Whatever cannot be placed is excluded with a reason a person understands.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from curation.events.geo import haversine_km, valid_position
from curation.events.records import ExclusionCode
from curation.records import TimeSource

# folder/ + prefix + 3..9 digit counter, optionally followed by a copy/edit marker
# ("IMG_0123 (1)", "DSC_0042 copy", "IMG_0042-edited"), then the extension. The iPhone
# edit prefix IMG_E is folded into IMG_.
_SEQUENCE = (
    r"^(?P<folder>(?:.*/)?)(?P<prefix>[^/]*?)(?P<num>\d{3,9})"
    r"(?:\s*\(\d+\)|[ _-]?copy(?:\s*\d+)?|[-_]edited)?(?:\.[^./]*)?$"
)
_GPS_CHUNK = 512


def sequence_keys(rel_paths: pd.Series) -> pd.DataFrame:
    """``group`` (folder + normalised prefix) and ``num`` of each path; None/NaN when the
    file name has no counter."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # RE2 through Arrow: one C++ pass over 100,000 paths instead of a Python loop.
    paths = pa.Array.from_pandas(rel_paths)
    if not pa.types.is_string(paths.type) and not pa.types.is_large_string(paths.type):
        paths = paths.cast(pa.string())
    found = pc.extract_regex(paths, _SEQUENCE)
    matched = ~found.is_null(nan_is_null=True).to_numpy(zero_copy_only=False)
    prefix = found.field("prefix").to_numpy(zero_copy_only=False)
    codes, uniques = pd.factorize(prefix)
    # Normalise the few distinct prefixes, not every row.
    normal = np.array([re.sub(r"^(img_)e$", r"\1", str(u).casefold()) for u in uniques] + [""], dtype=object)
    folder = pc.fill_null(found.field("folder"), "").to_numpy(zero_copy_only=False).astype(object)
    group = np.where(matched, folder + normal[codes], None)
    num = pd.to_numeric(pd.Series(found.field("num").to_numpy(zero_copy_only=False)), errors="coerce")
    return pd.DataFrame(
        {"group": pd.Series(group, dtype=object).to_numpy(), "num": num.astype(float).to_numpy()},
        index=rel_paths.index,
    )


def _neighbours(keys: pd.DataFrame, timed_keys: pd.DataFrame, direction: str) -> pd.DataFrame:
    """For each numbered untimed photo, the nearest dated photo of its group on one side:
    its number ``num_nb`` and event ``event_nb``."""
    left = keys.dropna(subset=["num"]).reset_index(names="_row").sort_values("num", kind="mergesort")
    right = timed_keys.dropna(subset=["num"]).sort_values("num", kind="mergesort")
    if left.empty or right.empty:
        return pd.DataFrame({"num_nb": pd.Series(dtype=float), "event_nb": pd.Series(dtype=float)})
    right = right[["group", "num", "event"]].assign(num_nb=right["num"]).rename(columns={"event": "event_nb"})
    merged = pd.merge_asof(left, right, on="num", by="group", direction=direction, allow_exact_matches=True)
    return merged.set_index("_row")[["num_nb", "event_nb"]]


def _base_reason(time_source: str | None) -> tuple[ExclusionCode, str]:
    if time_source == TimeSource.MTIME:
        return (
            ExclusionCode.UNRELIABLE_TIME,
            "Its only date is the file's modification time, which copying and editing change",
        )
    return ExclusionCode.NO_TIME, "It has no capture date in its EXIF, XMP or file name"


def place_by_neighbours(
    untimed: pd.DataFrame,
    timed: pd.DataFrame,
    areas: pd.DataFrame,
    *,
    seq_max_gap: int = 20,
    seq_edge_gap: int = 2,
    gps_margin_km: float = 0.5,
) -> pd.DataFrame:
    """Place photos without a reliable time.

    ``untimed``: photo_id, rel_path, time_source, lat, lon. ``timed``: rel_path and
    ``event`` (event number) of the photos already in events. ``areas``: one row per event
    number (the index) with ``lat``, ``lon`` (NaN without GPS), ``radius_km`` and
    ``label`` (how a reason names the event, e.g. its start time).

    Returns a frame on ``untimed``'s index: ``event`` (-1 when not placed), ``code`` and
    ``reason`` (None when placed).
    """
    out = pd.DataFrame(
        {"event": np.full(len(untimed), -1, dtype=np.int64), "code": None, "reason": None},
        index=untimed.index,
    )
    if untimed.empty:
        return out
    ambiguous_seq: dict = {}

    keys = sequence_keys(untimed["rel_path"])
    groups = set(keys["group"].dropna())
    if groups and not timed.empty:
        timed_keys = sequence_keys(timed["rel_path"])
        timed_keys["event"] = timed["event"].to_numpy()
        timed_keys = timed_keys[timed_keys["group"].isin(groups)]
        prev = _neighbours(keys, timed_keys, "backward").reindex(untimed.index)
        nxt = _neighbours(keys, timed_keys, "forward").reindex(untimed.index)
        num = keys["num"].to_numpy(dtype=float)
        d_prev = num - prev["num_nb"].to_numpy(dtype=float)  # NaN where there is no neighbour
        d_next = nxt["num_nb"].to_numpy(dtype=float) - num
        ev_prev = prev["event_nb"].fillna(-1).to_numpy(dtype=np.int64)
        ev_next = nxt["event_nb"].fillna(-1).to_numpy(dtype=np.int64)
        near_prev = d_prev <= seq_max_gap  # False for NaN
        near_next = d_next <= seq_max_gap
        both = near_prev & near_next
        same = ev_prev == ev_next
        event = np.full(len(untimed), -1, dtype=np.int64)
        event[both & same] = ev_prev[both & same]
        # A copy of a dated photo ("IMG_0123 (1).JPG") has that photo's number.
        copy_prev = both & ~same & (d_prev == 0)
        copy_next = both & ~same & (d_next == 0) & ~copy_prev
        event[copy_prev] = ev_prev[copy_prev]
        event[copy_next] = ev_next[copy_next]
        # At the end of the numbering, or when the other side is far off: one close neighbour.
        only_prev = (d_prev <= seq_edge_gap) & ~near_next & (event < 0)
        event[only_prev] = ev_prev[only_prev]
        only_next = (d_next <= seq_edge_gap) & ~near_prev & (event < 0)
        event[only_next] = ev_next[only_next]
        out["event"] = event
        for pos in np.flatnonzero(both & ~same & (event < 0)):
            ambiguous_seq[int(pos)] = (int(ev_prev[pos]), int(ev_next[pos]))

    # From here on, positions in ``untimed`` (plain arrays: row access on frames is slow).
    event = out["event"].to_numpy().copy()
    gps_matches = _gps_matches(untimed["lat"].to_numpy(dtype=float), untimed["lon"].to_numpy(dtype=float),
                               np.flatnonzero(event < 0), areas, gps_margin_km)
    for pos, matches in gps_matches.items():
        if len(matches) == 1 and pos not in ambiguous_seq:
            event[pos] = matches[0]
    out["event"] = event

    sources = untimed["time_source"].to_numpy(dtype=object) if "time_source" in untimed else [None] * len(untimed)
    has_gps = valid_position(untimed["lat"], untimed["lon"])
    labels = areas["label"].to_numpy(dtype=object) if "label" in areas.columns else None
    codes = np.full(len(untimed), None, dtype=object)
    reasons = np.full(len(untimed), None, dtype=object)
    for pos in np.flatnonzero(event < 0):
        code, base = _base_reason(sources[pos])
        if pos in ambiguous_seq:
            a, b = ambiguous_seq[pos]
            names = (labels[a], labels[b]) if labels is not None else (str(a), str(b))
            code = ExclusionCode.AMBIGUOUS
            reason = (
                f"{base}; its file number falls between photos of two events ({names[0]} and {names[1]}), "
                "so it could belong to either."
            )
        elif len(gps_matches.get(pos, ())) > 1:
            code = ExclusionCode.AMBIGUOUS
            reason = (
                f"{base}; its GPS position lies in the area of {len(gps_matches[pos])} events, "
                "so it could belong to any of them."
            )
        else:
            reason = f"{base}, and no dated photo sits next to it in its folder's file numbering"
            reason += ", nor does its GPS position fall inside any event." if has_gps[pos] else "."
        codes[pos] = code.value
        reasons[pos] = reason
    out["code"] = codes
    out["reason"] = reasons
    return out


def _gps_matches(lat: np.ndarray, lon: np.ndarray, candidates: np.ndarray, areas: pd.DataFrame,
                 margin_km: float) -> dict[int, list[int]]:
    """Event numbers whose area holds each candidate position (by position in lat/lon)."""
    rows = candidates[valid_position(lat[candidates], lon[candidates])]
    geo_areas = areas[valid_position(areas["lat"], areas["lon"])]
    if rows.size == 0 or geo_areas.empty:
        return {}
    a_lat = geo_areas["lat"].to_numpy(dtype=float)
    a_lon = geo_areas["lon"].to_numpy(dtype=float)
    reach = geo_areas["radius_km"].to_numpy(dtype=float) + margin_km
    labels = geo_areas.index.to_numpy()
    found: dict[int, list[int]] = {}
    for start in range(0, rows.size, _GPS_CHUNK):
        chunk = rows[start : start + _GPS_CHUNK]
        d = haversine_km(lat[chunk, None], lon[chunk, None], a_lat[None, :], a_lon[None, :])
        hit = d <= reach[None, :]
        for r, row_hits in zip(chunk, hit, strict=True):
            if row_hits.any():
                found[int(r)] = [int(x) for x in labels[row_hits]]
    return found
