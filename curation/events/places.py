"""Offline place names: GeoNames through ``reverse_geocoder``, named at the right level.

``reverse_geocoder`` ships GeoNames' populated places with more than 1000 people (city,
admin1 region, country code). Its loader parses a 7.8 MB CSV in Python (about 2 s), so
one instance is made the first time a place is needed and kept for the process: see
:func:`default_rgeocoder`. Queries are batched numpy arrays.

Three corrections on top of the plain nearest place:

* The KD-tree is built on raw (lat, lon) degrees, which stretches east-west distances
  away from the equator; the ``candidates`` nearest are re-ranked by great-circle distance.
* Nearest-place lookups name big cities after their suburbs (the Eiffel Tower is nearest
  to Vanves's centre, not Paris's). GeoNames in this form has no population, but the
  seat of an administrative area usually shares its name (Paris / admin2 "Paris", Lisbon /
  admin1 "Lisbon", Sevilla / "Provincia de Sevilla"). Within ``snap_km`` of the photo, a
  place that is such a seat wins over a nearer one that is not.
* Where every town is a seat (Dutch, Portuguese municipalities), a batch of lookups (one
  library's events) folds places into the one it names most often within ``snap_km``,
  of at least the same rank: the Amsterdam photos near Diemen are "Amsterdam". A lone
  lookup is never folded, so the result of a batch depends on the library, on purpose.

Naming a set of places (an event's photos, a trip's events): one city -> the city;
several cities in one region -> the region; several regions of one country -> the
country; two or three countries -> "France & Spain", "France, Spain & Italy"; more -> the
continent(s). A place holding ``dominant_share`` of the weight names the whole set at its
level (a week in Paris with a day in Versailles is "Paris").
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from curation.events.countries import continent_of, country_name
from curation.events.geo import haversine_km, valid_position
from curation.events.records import EventsError, Place

_RGEOCODER: Any = None
_RGEOCODER_LOCK = threading.Lock()


def default_rgeocoder() -> Any:
    """The process-wide ``reverse_geocoder.RGeocoder`` (single-process KD-tree), made on
    first use. Module-level on purpose: loading costs ~2 s and the data never changes, so
    every stage run and dashboard rerun in a process shares one read-only instance."""
    global _RGEOCODER
    if _RGEOCODER is None:
        with _RGEOCODER_LOCK:
            if _RGEOCODER is None:
                try:
                    import reverse_geocoder
                except ImportError as exc:  # pragma: no cover - it is a project dependency
                    raise ImportError(
                        "Place names need the reverse_geocoder package: pip install 'reverse_geocoder>=1.5'"
                    ) from exc
                _RGEOCODER = reverse_geocoder.RGeocoder(mode=1, verbose=False)
    return _RGEOCODER


def _norm(text: str) -> str:
    """Lower case, no accents, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.split(r"[^0-9a-z]+", plain)).strip()


def admin_seat_rank(name: str, admin1: str, admin2: str) -> float:
    """How likely the place is the seat of its area, as a proxy for size (GeoNames here has
    no population): 2.5 when its name is its region's (admin1) name or inside it ("Lisbon",
    "Sevilla" in "Provincia de Sevilla"), 2 when the region's name is inside its own
    ("Berlin Treptow", "New York City"); 1.5 and 1 likewise for admin2; 0 otherwise."""
    n = f" {_norm(name)} "
    if not n.strip():
        return 0.0
    for base, area in ((2.0, _norm(admin1)), (1.0, _norm(admin2))):
        if not area:
            continue
        if n in f" {area} ":
            return base + 0.5
        if f" {area} " in n:
            return base
    return 0.0


class GeoNamesPlaces:
    """Reverse geocoder returning :class:`Place` records. ``rgeocoder`` is injectable
    (anything with ``tree`` (a scipy cKDTree on (lat, lon)) and ``locations`` (dicts with
    name, admin1, admin2, cc)); by default the shared :func:`default_rgeocoder`."""

    def __init__(self, rgeocoder: Any = None, *, snap_km: float = 7.0, candidates: int = 16) -> None:
        self.rgeocoder = rgeocoder
        self.snap_km = snap_km
        self.candidates = candidates

    def _validate(self) -> None:
        if not self.snap_km >= 0:
            raise EventsError(f"city_snap_km must be >= 0 (got {self.snap_km}). Try 7; 0 turns snapping off.")
        if not (isinstance(self.candidates, int | np.integer) and self.candidates >= 1):
            raise EventsError(f"candidates must be a whole number >= 1 (got {self.candidates!r}). Try 16.")

    def lookup(
        self, lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray, *, fold: bool = True
    ) -> list[Place | None]:
        """One place per coordinate pair (None where the position is missing). With
        ``fold``, the batch is one library's places: see step 2 below."""
        self._validate()
        lat = np.asarray(lat, dtype=float).ravel()
        lon = np.asarray(lon, dtype=float).ravel()
        out: list[Place | None] = [None] * lat.size
        ok = np.flatnonzero(valid_position(lat, lon))
        if ok.size == 0:
            return out
        rg = self.rgeocoder if self.rgeocoder is not None else default_rgeocoder()
        coords = rg.tree.data
        k = min(self.candidates, len(coords))
        _, idx = rg.tree.query(np.stack([lat[ok], lon[ok]], axis=1), k=k)
        idx = idx.reshape(ok.size, k)
        dist = haversine_km(lat[ok, None], lon[ok, None], coords[idx, 0], coords[idx, 1])
        uniq, inverse = np.unique(idx, return_inverse=True)
        inverse = inverse.reshape(idx.shape)
        rank = np.array(
            [admin_seat_rank(rg.locations[i]["name"], rg.locations[i]["admin1"], rg.locations[i]["admin2"])
             for i in uniq],
            dtype=float,
        )[inverse]
        rows = np.arange(ok.size)
        near = dist <= self.snap_km
        nearest = np.argmin(dist, axis=1)
        # 1. Snap to a seat: among candidates within snap_km, the highest rank, then the
        #    nearest; it replaces the nearest place only when its rank is higher.
        score = np.where(near, rank * 1e6 - dist, -np.inf)
        snapped = np.argmax(score, axis=1)
        better = np.isfinite(score[rows, snapped]) & (rank[rows, snapped] > rank[rows, nearest])
        chosen = np.where(better, snapped, nearest)
        if fold:
            # 2. Fold suburbs of equal rank (Dutch or Portuguese municipalities are all
            #    seats) into the place this batch names most often within snap_km:
            #    a week in Amsterdam is not "Amsterdam, Diemen and Amstelveen".
            popularity = np.bincount(inverse[rows, chosen], minlength=uniq.size)[inverse]
            eligible = near & (rank >= rank[rows, chosen][:, None])
            score = np.where(eligible, popularity * 1e6 - dist, -np.inf)
            folded = np.argmax(score, axis=1)
            more = np.isfinite(score[rows, folded]) & (popularity[rows, folded] > popularity[rows, chosen])
            chosen = np.where(more, folded, chosen)
        for r, pos in enumerate(ok):
            loc_i = int(idx[r, chosen[r]])
            loc = rg.locations[loc_i]
            cc = loc["cc"]
            out[pos] = Place(
                city=loc["name"],
                region=loc["admin1"] or "",
                country_code=cc,
                country=country_name(cc) or cc,
                lat=float(coords[loc_i, 0]),
                lon=float(coords[loc_i, 1]),
            )
        return out


def join_names(names: Sequence[str]) -> str:
    """"A", "A & B", "A, B & C"."""
    names = list(names)
    if len(names) <= 1:
        return names[0] if names else ""
    return ", ".join(names[:-1]) + " & " + names[-1]


def name_places(
    places: Sequence[Place | None],
    weights: Sequence[float] | None = None,
    *,
    dominant_share: float = 0.75,
    max_countries: int = 3,
) -> str | None:
    """The name of a set of places at the right level (see the module docstring).
    ``places`` in visiting order; ``weights`` (e.g. photo counts) default to 1 each."""
    if not 0.5 < dominant_share <= 1:
        raise EventsError(f"dominant_share must be in (0.5, 1] (got {dominant_share}). Try 0.75.")
    weights = [1.0] * len(places) if weights is None else list(weights)
    pairs = [(p, float(w)) for p, w in zip(places, weights, strict=True) if p is not None]
    if not pairs:
        return None
    total = sum(w for _, w in pairs) or 1.0

    def dominant(key) -> tuple[Place | None, int]:  # noqa: ANN001 - a key function
        share: dict = {}
        first: dict = {}
        for p, w in pairs:
            k = key(p)
            share[k] = share.get(k, 0.0) + w
            first.setdefault(k, p)
        order = {k: i for i, k in enumerate(first)}
        top = max(share, key=lambda k: (share[k], -order[k]))
        if len(share) == 1 or share[top] / total >= dominant_share:
            return first[top], len(share)
        return None, len(share)

    city, _ = dominant(lambda p: p.key)
    if city is not None:
        return city.city
    region, _ = dominant(lambda p: (p.country_code, p.region))
    if region is not None:
        return region.region or region.country
    country, _ = dominant(lambda p: p.country_code)
    if country is not None:
        return country.country
    countries = list(dict.fromkeys(p.country for p, _ in pairs))
    if len(countries) <= max_countries:
        return join_names(countries)
    continents = list(dict.fromkeys(continent_of(p.country_code) or p.country for p, _ in pairs))
    return join_names(continents)


def dominant_place(places: Sequence[Place | None], weights: Sequence[float] | None = None) -> Place | None:
    """The place with the most weight (the first one on ties)."""
    share: dict = {}
    first: dict = {}
    weights = [1.0] * len(places) if weights is None else list(weights)
    for p, w in zip(places, weights, strict=True):
        if p is None:
            continue
        share[p.key] = share.get(p.key, 0.0) + float(w)
        first.setdefault(p.key, p)
    if not share:
        return None
    order = {k: i for i, k in enumerate(first)}
    top = max(share, key=lambda k: (share[k], -order[k]))
    return first[top]
