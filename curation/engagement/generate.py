"""Synthetic engagement exports that look and misbehave like the real ones.

``generate(users, out_dir)`` writes one Parquet file per table (``users``, ``albums``,
``events``, ``orders``, ``assignments``) in the layout real exports have, so the same
cleaning, views and queries run on both. Everything is vectorised numpy: a user draws
albums, an album draws impressions, an impression may become an open, an open may lead to
shares, edits and an order. What is planted is reported in :class:`GenerateReport` so
tests can check that cleaning finds exactly it.

The world being simulated:

- 61 countries weighted like a photobook market, each with its languages, currency and
  iOS share; ~3.5 % of users have no country (or an empty one), some a lower-case one.
- Seasonality: more trip albums in summer, event albums and a strong photobook-order peak
  from mid-November to Christmas, "year in review" albums at the turn of the year,
  a signup bump in early January (new phones).
- Users churn (a third within weeks), so retention curves decay by signup cohort.
- Experiment ``title_strategy`` (``grounded`` vs ``llm`` titles, 50/50, from a quarter into
  the period): albums created after a user's assignment get that variant's titles, and
  ``llm`` titles raise the chance that a shown album is opened by ``effect`` (relative,
  default +12 %). Experiment ``cover_layout`` (``control`` vs ``treatment``, 50/50, from
  half-way) has no effect at all: an A/A test in disguise.
- The mess: duplicated events (client retries, some re-sent minutes later), users whose
  device clock is wrong (hours or days ahead or behind, some years in the future, some
  reset to 1970), offline clients whose events arrive up to 48 h late (legitimately),
  events for deleted albums and purged users, an event type the pipeline does not know,
  duplicated users, orders and assignments, lower-case currency codes.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curation.engagement import AlbumKind, EventType, Platform, Table, TitleGenerator

US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000
US_PER_MIN = 60_000_000
US_PER_S = 1_000_000


class GenerateError(ValueError):
    """A parameter of :func:`generate` is out of range."""


@dataclass(frozen=True)
class Country:
    code: str
    weight: float  # share of users (relative)
    languages: tuple[tuple[str, float], ...]  # (code, share) summing to 1
    currency: str
    eur_per_unit: float  # price-list conversion; same numbers as sql/engagement/schema.sql fx_rates
    ios_share: float
    spend: float  # relative propensity to order a printed book


def _c(code, weight, langs, currency, eur, ios, spend=1.0) -> Country:  # noqa: ANN001 - table helper
    return Country(code, weight, tuple(langs), currency, eur, ios, spend)


# A photobook market: rich countries order more; weights are shares of the user base.
COUNTRIES: tuple[Country, ...] = (
    _c("US", 18.0, [("en", 0.88), ("es", 0.12)], "USD", 0.92, 0.57, 1.2),
    _c("GB", 8.0, [("en", 1.0)], "GBP", 1.17, 0.52, 1.2),
    _c("DE", 9.0, [("de", 1.0)], "EUR", 1.0, 0.38, 1.3),
    _c("FR", 6.0, [("fr", 1.0)], "EUR", 1.0, 0.42, 1.1),
    _c("NL", 3.0, [("nl", 1.0)], "EUR", 1.0, 0.45, 1.2),
    _c("BE", 1.5, [("nl", 0.58), ("fr", 0.42)], "EUR", 1.0, 0.42, 1.1),
    _c("ES", 3.0, [("es", 0.9), ("ca", 0.1)], "EUR", 1.0, 0.3, 0.9),
    _c("IT", 3.5, [("it", 1.0)], "EUR", 1.0, 0.33, 0.9),
    _c("CA", 3.0, [("en", 0.78), ("fr", 0.22)], "CAD", 0.67, 0.55, 1.1),
    _c("AU", 2.5, [("en", 1.0)], "AUD", 0.60, 0.55, 1.1),
    _c("JP", 3.0, [("ja", 1.0)], "JPY", 0.0061, 0.68, 1.0),
    _c("BR", 2.5, [("pt", 1.0)], "BRL", 0.17, 0.15, 0.6),
    _c("MX", 2.0, [("es", 1.0)], "MXN", 0.050, 0.2, 0.6),
    _c("PL", 1.5, [("pl", 1.0)], "PLN", 0.23, 0.25, 0.8),
    _c("SE", 1.0, [("sv", 1.0)], "SEK", 0.087, 0.55, 1.2),
    _c("NO", 0.8, [("nb", 1.0)], "NOK", 0.085, 0.6, 1.3),
    _c("DK", 0.7, [("da", 1.0)], "DKK", 0.134, 0.6, 1.3),
    _c("FI", 0.5, [("fi", 0.9), ("sv", 0.1)], "EUR", 1.0, 0.45, 1.1),
    _c("CH", 1.2, [("de", 0.65), ("fr", 0.25), ("it", 0.1)], "CHF", 1.05, 0.6, 1.5),
    _c("AT", 1.2, [("de", 1.0)], "EUR", 1.0, 0.4, 1.3),
    _c("IE", 0.6, [("en", 1.0)], "EUR", 1.0, 0.5, 1.2),
    _c("PT", 0.8, [("pt", 1.0)], "EUR", 1.0, 0.3, 0.8),
    _c("GR", 0.5, [("el", 1.0)], "EUR", 1.0, 0.25, 0.7),
    _c("CZ", 0.6, [("cs", 1.0)], "CZK", 0.040, 0.3, 0.8),
    _c("HU", 0.4, [("hu", 1.0)], "HUF", 0.0025, 0.25, 0.7),
    _c("RO", 0.5, [("ro", 1.0)], "RON", 0.20, 0.22, 0.6),
    _c("TR", 1.0, [("tr", 1.0)], "TRY", 0.027, 0.18, 0.5),
    _c("IN", 2.0, [("en", 0.7), ("hi", 0.3)], "INR", 0.011, 0.05, 0.3),
    _c("KR", 1.2, [("ko", 1.0)], "KRW", 0.00067, 0.3, 0.9),
    _c("SG", 0.5, [("en", 0.85), ("zh", 0.15)], "SGD", 0.68, 0.6, 1.1),
    _c("HK", 0.5, [("zh", 0.8), ("en", 0.2)], "HKD", 0.118, 0.6, 1.0),
    _c("TW", 0.6, [("zh", 1.0)], "TWD", 0.028, 0.5, 0.9),
    _c("NZ", 0.5, [("en", 1.0)], "NZD", 0.55, 0.5, 1.1),
    _c("ZA", 0.6, [("en", 0.75), ("af", 0.25)], "ZAR", 0.050, 0.2, 0.5),
    _c("AR", 0.8, [("es", 1.0)], "ARS", 0.00095, 0.15, 0.4),
    _c("CL", 0.5, [("es", 1.0)], "CLP", 0.00097, 0.25, 0.6),
    _c("CO", 0.6, [("es", 1.0)], "COP", 0.00023, 0.15, 0.5),
    _c("PE", 0.3, [("es", 1.0)], "PEN", 0.25, 0.15, 0.4),
    _c("IL", 0.4, [("he", 0.85), ("en", 0.15)], "ILS", 0.25, 0.4, 1.0),
    _c("AE", 0.5, [("en", 0.6), ("ar", 0.4)], "AED", 0.25, 0.6, 1.1),
    _c("SA", 0.4, [("ar", 1.0)], "SAR", 0.245, 0.5, 0.8),
    _c("EG", 0.3, [("ar", 1.0)], "EGP", 0.019, 0.1, 0.2),
    _c("NG", 0.3, [("en", 1.0)], "NGN", 0.0006, 0.1, 0.2),
    _c("KE", 0.2, [("en", 0.7), ("sw", 0.3)], "KES", 0.0071, 0.1, 0.2),
    _c("MA", 0.2, [("fr", 0.5), ("ar", 0.5)], "MAD", 0.092, 0.1, 0.3),
    _c("TH", 0.6, [("th", 1.0)], "THB", 0.026, 0.3, 0.5),
    _c("VN", 0.5, [("vi", 1.0)], "VND", 0.000036, 0.2, 0.3),
    _c("ID", 0.8, [("id", 1.0)], "IDR", 0.000057, 0.1, 0.3),
    _c("MY", 0.4, [("ms", 0.7), ("en", 0.3)], "MYR", 0.20, 0.3, 0.5),
    _c("PH", 0.6, [("en", 0.6), ("tl", 0.4)], "PHP", 0.016, 0.2, 0.4),
    _c("UA", 0.4, [("uk", 1.0)], "UAH", 0.022, 0.25, 0.4),
    _c("SK", 0.2, [("sk", 1.0)], "EUR", 1.0, 0.3, 0.8),
    _c("SI", 0.1, [("sl", 1.0)], "EUR", 1.0, 0.35, 0.9),
    _c("HR", 0.2, [("hr", 1.0)], "EUR", 1.0, 0.3, 0.8),
    _c("BG", 0.2, [("bg", 1.0)], "BGN", 0.511, 0.25, 0.6),
    _c("RS", 0.15, [("sr", 1.0)], "RSD", 0.0085, 0.2, 0.5),
    _c("LT", 0.1, [("lt", 1.0)], "EUR", 1.0, 0.35, 0.8),
    _c("LV", 0.1, [("lv", 1.0)], "EUR", 1.0, 0.35, 0.8),
    _c("EE", 0.1, [("et", 1.0)], "EUR", 1.0, 0.4, 0.9),
    _c("LU", 0.1, [("fr", 0.5), ("de", 0.3), ("lb", 0.2)], "EUR", 1.0, 0.5, 1.5),
    _c("IS", 0.05, [("is", 1.0)], "ISK", 0.0066, 0.5, 1.2),
)

KINDS: tuple[AlbumKind, ...] = tuple(AlbumKind)
# Share of albums of each kind (KINDS order) outside the seasons, in summer, in December.
_KIND_MIX = np.array(
    [
        # trip event person together theme year on_this_day
        [0.12, 0.12, 0.17, 0.12, 0.15, 0.0, 0.32],
        [0.32, 0.10, 0.13, 0.12, 0.10, 0.0, 0.23],
        [0.08, 0.26, 0.15, 0.14, 0.12, 0.0, 0.25],
    ]
)
_OPEN_RATE = dict(trip=0.42, event=0.38, person=0.30, together=0.36, theme=0.24, year=0.55, on_this_day=0.28)
_SHARE_RATE = dict(trip=0.10, event=0.16, person=0.08, together=0.18, theme=0.05, year=0.12, on_this_day=0.06)
_ORDER_RATE = dict(trip=0.05, event=0.04, person=0.03, together=0.035, theme=0.015, year=0.09, on_this_day=0.008)
_BOOK_PRICE = dict(trip=1.2, event=1.1, person=1.0, together=1.0, theme=0.9, year=1.6, on_this_day=0.8)

# Themes per kind with their shares, an order-rate factor and a price factor.
_THEMES: dict[str, tuple[tuple[str, float, float, float], ...]] = {
    "trip": (
        ("beach", 0.3, 1.1, 1.0),
        ("city", 0.25, 0.9, 1.0),
        ("mountains", 0.2, 1.0, 1.0),
        ("roadtrip", 0.15, 1.0, 1.1),
        ("ski", 0.1, 1.2, 1.1),
    ),
    "event": (
        ("birthday", 0.35, 1.0, 1.0),
        ("wedding", 0.1, 2.6, 1.8),
        ("christmas", 0.15, 1.8, 1.2),
        ("graduation", 0.1, 1.5, 1.1),
        ("concert", 0.15, 0.4, 0.9),
        ("party", 0.15, 0.5, 0.9),
    ),
    "person": (
        ("kids", 0.45, 1.6, 1.1),
        ("family", 0.25, 1.2, 1.0),
        ("pets", 0.2, 0.9, 0.9),
        ("friends", 0.1, 0.6, 0.9),
    ),
    "together": (("couple", 0.4, 1.3, 1.1), ("friends", 0.35, 0.6, 0.9), ("family", 0.25, 1.2, 1.0)),
    "theme": (
        ("food", 0.25, 0.4, 0.8),
        ("sunsets", 0.2, 0.7, 0.9),
        ("pets", 0.25, 1.1, 0.9),
        ("nature", 0.2, 0.8, 0.9),
        ("architecture", 0.1, 0.5, 0.9),
    ),
    "year": (("year_in_review", 1.0, 1.0, 1.0),),
    "on_this_day": (("throwback", 1.0, 1.0, 1.0),),
}
THEMES: tuple[str, ...] = tuple(dict.fromkeys(t[0] for rows in _THEMES.values() for t in rows))

EVENT_TYPES: tuple[str, ...] = (*tuple(EventType), "like")  # "like": a type this pipeline does not know
EXPERIMENTS = {
    "title_strategy": (TitleGenerator.GROUNDED.value, TitleGenerator.LLM.value),
    "cover_layout": ("control", "treatment"),
}


@dataclass(frozen=True)
class Mess:
    """How much of each kind of mess to plant (fractions); ``Mess.none()`` plants nothing."""

    duplicate_events: float = 0.012  # of events, sent twice (half of them re-sent minutes later)
    skewed_users: float = 0.03  # of users, whose device clock is wrong
    offline_events: float = 0.04  # of events, arriving 10 min to 48 h late (legitimate)
    unknown_album_events: float = 0.004
    unknown_user_events: float = 0.001
    unknown_type_events: float = 0.0005
    missing_country: float = 0.035  # of users, NULL (6/7) or empty (1/7)
    lowercase_country: float = 0.01
    duplicate_users: float = 0.002
    duplicate_orders: float = 0.005
    lowercase_currency: float = 0.01
    duplicate_assignments: float = 0.003

    @classmethod
    def none(cls) -> Mess:
        return cls(**{name: 0.0 for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Planted:
    """What the generator planted, for checking the cleaning step against it."""

    duplicate_events: int
    future_skew_events: int  # client ts later than arrival: must be corrected
    past_skew_events: int  # client ts more than 72 h before arrival: must be corrected
    unknown_album_events: int
    unknown_user_events: int
    unknown_type_events: int
    missing_country_users: int
    lowercase_country_users: int
    duplicate_users: int
    duplicate_orders: int
    lowercase_currency_orders: int
    duplicate_assignments: int
    title_strategy_effect: float  # relative lift of the open rate for llm titles


@dataclass(frozen=True)
class GenerateReport:
    out_dir: Path
    files: dict[Table, Path]
    rows: dict[Table, int]
    seconds_generate: float  # numpy work
    seconds_write: float  # Parquet encoding and writing
    planted: Planted
    seed: int
    start: date
    days: int

    @property
    def n_events(self) -> int:
        return self.rows[Table.EVENTS]

    @property
    def events_per_s(self) -> float:
        """Events per second, generation and writing together."""
        return self.n_events / max(self.seconds_generate + self.seconds_write, 1e-9)

    def summary(self) -> str:
        rows = ", ".join(f"{n:,} {t.value}" for t, n in self.rows.items())
        return (
            f"{rows} in {self.seconds_generate + self.seconds_write:.1f} s "
            f"({self.events_per_s / 1e6:.2f} M events/s) -> {self.out_dir}"
        )

    def as_dict(self) -> dict:
        return {
            "out_dir": str(self.out_dir),
            "rows": {t.value: n for t, n in self.rows.items()},
            "seconds_generate": self.seconds_generate,
            "seconds_write": self.seconds_write,
            "planted": asdict(self.planted),
        }


# ---------------------------------------------------------------------------------------
# helpers: every big array is touched as few times as possible (allocation dominates)


def _pick(rng: np.random.Generator, weights: np.ndarray | list[float], n: int) -> np.ndarray:
    """Draw ``n`` indices with probabilities proportional to ``weights``."""
    cum = np.cumsum(weights)
    return np.searchsorted(cum, rng.random(n) * cum[-1], side="right").astype(np.int16)


def _pick_by_group(rng: np.random.Generator, weights: list[np.ndarray], group: np.ndarray) -> np.ndarray:
    """Like :func:`_pick`, with the weights ``weights[group[i]]`` for draw ``i``; returns the
    index into the concatenation of all groups' weights (one ``searchsorted`` for all rows)."""
    cum = np.concatenate([g + np.cumsum(w) / np.sum(w) for g, w in enumerate(weights)])
    cum[np.cumsum([len(w) for w in weights]) - 1] = np.arange(1, len(weights) + 1)  # no float gaps
    u = rng.random(len(group))
    u += group
    return np.searchsorted(cum, u, side="right").astype(np.int16)


def _some(rng: np.random.Generator, n: int, fraction: float) -> np.ndarray:
    """Sorted distinct row indices, about ``fraction`` of ``n`` (cheap for rare mess)."""
    if fraction <= 0 or n == 0:
        return np.empty(0, dtype=np.int64)
    rows = np.sort(rng.integers(0, n, rng.binomial(n, min(fraction, 1.0))))
    return rows[np.concatenate(([True], rows[1:] != rows[:-1]))] if len(rows) else rows


def _uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.random(n, dtype=np.float32)


def _day_of_year(start: date, day: np.ndarray) -> np.ndarray:
    """Day of the year (0-based, 365-day calendar) of fractional day offsets from ``start``."""
    return ((day + (start.timetuple().tm_yday - 1)) % 365).astype(np.int16)


def _season(doy: np.ndarray) -> np.ndarray:
    """0 = ordinary, 1 = summer (mid-June to August), 2 = December."""
    out = np.zeros(doy.shape, dtype=np.int8)
    out[(doy >= 166) & (doy < 243)] = 1
    out[doy >= 334] = 2
    return out


def _order_season(doy: np.ndarray) -> np.ndarray:
    """Photobooks as Christmas presents: a strong peak from mid-November to Dec 18."""
    factor = np.ones(doy.shape)
    factor[(doy >= 318) & (doy < 352)] = 3.5
    factor[doy >= 352] = 1.3
    factor[(doy >= 166) & (doy < 243)] = 1.1
    factor[doy < 31] = 0.8
    return factor


def _dictionary(codes: np.ndarray, values: tuple[str, ...] | list[str], null: np.ndarray | None = None) -> pa.Array:
    indices = pa.array(codes if codes.dtype in (np.int8, np.int16, np.int32) else codes.astype(np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(indices, pa.array([str(v) for v in values], pa.string()))


def _timestamps(us: np.ndarray) -> pa.Array:
    return pa.array(us.astype(np.int64, copy=False)).view(pa.timestamp("us"))


def _decimal_cents(cents: np.ndarray) -> pa.Array:
    """Whole cents -> DECIMAL(14, 2) without a float round trip (128-bit little-endian words)."""
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63
    return pa.Array.from_buffers(pa.decimal128(14, 2), len(cents), [None, pa.py_buffer(words)])


def _micros(start_us: int, days: np.ndarray, *, reuse: bool = False) -> np.ndarray:
    """Fractional days after the start -> epoch microseconds (int64); ``reuse`` overwrites ``days``."""
    days = days if reuse else days.copy()
    days *= float(US_PER_DAY)
    days += start_us
    return days.astype(np.int64)


def _scramble(ids: np.ndarray, salt: int) -> np.ndarray:
    """A bijection on 62-bit integers: unique, random-looking ids (like client-made ids)."""
    x = ids.astype(np.uint64)
    x += np.uint64(salt * 0x2545F4914F6CDD1D % (1 << 62) + 1)
    x *= np.uint64(0x9E3779B97F4A7C15)
    x &= np.uint64((1 << 62) - 1)
    x ^= x >> np.uint64(29)
    return x.view(np.int64)


# ---------------------------------------------------------------------------------------


def generate(
    users: int,
    out_dir: Path,
    seed: int = 0,
    days: int = 365,
    *,
    start: date = date(2025, 1, 1),
    effect: float = 0.12,
    mess: Mess | None = None,
) -> GenerateReport:
    """Write ``users.parquet``, ``albums.parquet``, ``events.parquet``, ``orders.parquet`` and
    ``assignments.parquet`` to ``out_dir`` (about 20 events per user over a year)."""
    if isinstance(users, bool) or not isinstance(users, int | np.integer) or users < 1:
        raise GenerateError(f"users must be a positive integer, got {users!r}.")
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 28:
        raise GenerateError(f"days must be an integer of at least 28 (four weeks), got {days!r}.")
    if not -0.5 < effect < 1.0:
        raise GenerateError(f"effect is a relative lift of the open rate, between -0.5 and 1.0; got {effect!r}.")
    mess = mess or Mess()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    tables, planted = _simulate(int(users), int(days), start, seed, effect, mess)
    t1 = time.perf_counter()
    files: dict[Table, Path] = {}
    rows: dict[Table, int] = {}
    for table, data in tables.items():
        path = out_dir / f"{table.value}.parquet"
        categorical = [f.name for f in data.schema if pa.types.is_dictionary(f.type)]
        # Dictionary pages only where they pay; ids and times are high-cardinality.
        pq.write_table(data, path, compression="zstd", row_group_size=1 << 20, use_dictionary=categorical)
        files[table] = path
        rows[table] = data.num_rows
    t2 = time.perf_counter()
    return GenerateReport(out_dir, files, rows, t1 - t0, t2 - t1, planted, seed, start, int(days))


def _simulate(
    n_users: int, days: int, start: date, seed: int, effect: float, mess: Mess
) -> tuple[dict[Table, pa.Table], Planted]:
    rng = np.random.default_rng(seed)
    start_us = int(datetime(start.year, start.month, start.day, tzinfo=timezone.utc).timestamp()) * US_PER_S

    # ---- users ---------------------------------------------------------------------
    country = _pick(rng, np.array([c.weight for c in COUNTRIES]), n_users)
    languages = sorted({lang for c in COUNTRIES for lang, _ in c.languages})
    lang_index = {lang: i for i, lang in enumerate(languages)}
    width = max(len(c.languages) for c in COUNTRIES)
    lang_cum = np.full((len(COUNTRIES), width), 2.0)
    lang_code = np.zeros((len(COUNTRIES), width), dtype=np.int16)
    for i, c in enumerate(COUNTRIES):
        shares = np.cumsum([s for _, s in c.languages])
        lang_cum[i, : len(shares)] = shares / shares[-1]
        lang_code[i, : len(shares)] = [lang_index[lang] for lang, _ in c.languages]
    choice = (rng.random(n_users)[:, None] >= lang_cum[country]).sum(axis=1)
    language = lang_code[country, choice]
    language[rng.random(n_users) < 0.06] = lang_index["en"]  # English UI anywhere

    ios = np.array([c.ios_share for c in COUNTRIES])[country]
    u = rng.random(n_users)
    platform = np.where(u < ios, 0, np.where(u < ios + 0.08, 2, 1)).astype(np.int8)  # Platform order

    # Signup: a third of the base existed before the period; new signups grow through the
    # year with a bump in the first weeks of January (new phones at Christmas).
    existing = rng.random(n_users) < 0.35
    signup_day = np.empty(n_users)
    signup_day[existing] = -rng.random(existing.sum()) * 730
    grid = np.arange(days)
    doy = _day_of_year(start, grid)
    w = (1 + 0.6 * grid / days) * np.where(doy < 14, 1.8, 1.0) * np.where(doy >= 355, 1.3, 1.0)
    new = ~existing
    signup_day[new] = _pick(rng, w, int(new.sum())) + rng.random(new.sum())
    lifetime = np.where(rng.random(n_users) < 0.32, rng.exponential(20, n_users), rng.exponential(520, n_users))
    active_from = np.maximum(signup_day, 0)
    active_to = np.minimum(signup_day + lifetime, days)
    propensity = rng.lognormal(0, 0.35, n_users)

    # ---- experiments: assigned at the first session after the start ------------------------
    exp_start = {"title_strategy": days * 0.25, "cover_layout": days * 0.5}
    assignments = []  # (user indices, experiment, variant, assigned day)
    title_variant = title_day = None
    for name, first_day in exp_start.items():
        idx = np.flatnonzero(active_to > first_day)
        day = np.maximum(active_from[idx], first_day) + rng.random(len(idx)) / 12
        variant = (rng.random(len(idx)) < 0.5).astype(np.int8)
        assignments.append((idx, name, variant, day))
        if name == "title_strategy":
            title_variant = np.full(n_users, -1, np.int8)
            title_variant[idx] = variant
            title_day = np.full(n_users, np.inf)
            title_day[idx] = day

    # ---- albums: about one every 18 active days, more in summer and December -------------
    active_len = np.clip(active_to - active_from, 0, None)
    season_max = 1.6
    n_cand = rng.poisson(0.055 * np.sqrt(propensity) * active_len * season_max)
    owner = np.repeat(np.arange(n_users, dtype=np.int32), n_cand)
    created = active_from[owner] + rng.random(len(owner)) * active_len[owner]
    cdoy = _day_of_year(start, created)
    season = _season(cdoy)
    keep = _uniform(rng, len(owner)) * season_max < np.array([1.0, 1.6, 1.45], np.float32)[season]
    owner, created, cdoy, season = owner[keep], created[keep], cdoy[keep], season[keep]
    n_albums = len(owner)
    kind = _pick_by_group(rng, list(_KIND_MIX), season) - len(KINDS) * season  # rows are KINDS-wide
    year_end = (cdoy >= 354) | (cdoy < 7)
    kind[year_end & (_uniform(rng, n_albums) < 0.2)] = KINDS.index(AlbumKind.YEAR)

    theme_rows = [row for k in KINDS for row in _THEMES[k.value]]
    row = _pick_by_group(rng, [np.array([r[1] for r in _THEMES[k.value]]) for k in KINDS], kind)
    theme = np.array([THEMES.index(r[0]) for r in theme_rows], np.int16)[row]
    order_factor = np.array([r[2] for r in theme_rows])[row]
    price_factor = np.array([r[3] for r in theme_rows])[row]
    christmas = (kind == KINDS.index(AlbumKind.EVENT)) & (cdoy >= 340) & (_uniform(rng, n_albums) < 0.6)
    theme[christmas] = THEMES.index("christmas")
    order_factor[christmas] = 1.8

    llm = (title_variant[owner] == 1) & (created >= title_day[owner])  # TitleGenerator order
    album_id = np.arange(n_albums, dtype=np.int64) + 10_000_001
    album_end = active_to[owner]  # the owner stops using the app
    user_id = np.arange(1, n_users + 1, dtype=np.int64)

    # ---- impressions: shown in the feed over the days after creation ---------------------
    n_imp = np.minimum(rng.geometric(1 / 2.3, n_albums), 12).astype(np.int32)
    imp_album = np.repeat(np.arange(n_albums, dtype=np.int32), n_imp)
    imp_t = rng.standard_exponential(len(imp_album), dtype=np.float32).astype(np.float64)
    imp_t *= 3.0
    imp_t += created[imp_album]
    live = imp_t < album_end[imp_album]
    imp_album, imp_t = imp_album[live], imp_t[live]
    shown_count = np.bincount(imp_album, minlength=n_albums)
    shown = shown_count > 0
    first_imp = np.cumsum(shown_count) - shown_count  # each album's first impression row

    # ---- opens and what follows ------------------------------------------------------
    p_open = (
        np.array([_OPEN_RATE[k.value] for k in KINDS])[kind]
        * np.where(llm, 1.0 + effect, 1.0)
        * propensity[owner] ** 0.6
        * np.array([1.05, 0.95, 0.85])[platform[owner]]
    )
    opened = shown & (rng.random(n_albums) < np.clip(p_open, 0, 0.97))
    oa = np.flatnonzero(opened).astype(np.int32)
    which = np.floor(rng.random(len(oa)) * shown_count[oa]).astype(np.int64)
    open_t = imp_t[first_imp[oa] + which] + rng.exponential(40 / 1440, len(oa))

    n_re = rng.poisson(0.5 * propensity[owner[oa]])
    re_album = np.repeat(oa, n_re)
    re_t = np.repeat(open_t, n_re) + rng.exponential(4.0, n_re.sum())

    shares = rng.random(len(oa)) < np.array([_SHARE_RATE[k.value] for k in KINDS])[kind[oa]]
    share_album, share_t = oa[shares], open_t[shares] + rng.exponential(1 / 24, shares.sum())

    edited = rng.random(len(oa)) < 0.16 * propensity[owner[oa]] ** 0.3
    n_edit = np.where(edited, 1 + rng.poisson(2.5, len(oa)), 0)
    session = open_t + rng.exponential(10 / 1440, len(oa))
    edit_album = np.repeat(oa, n_edit)
    edit_t = np.repeat(session, n_edit) + rng.exponential(5 / 1440, n_edit.sum())
    last_touch = np.where(edited, session + 15 / 1440, open_t)

    spend = np.array([c.spend for c in COUNTRIES])[country]
    p_order = (
        np.array([_ORDER_RATE[k.value] for k in KINDS])[kind[oa]]
        * order_factor[oa]
        * np.where(edited, 3.0, 0.45)
        * _order_season(_day_of_year(start, open_t))
        * spend[owner[oa]]
    )
    ordered = rng.random(len(oa)) < np.clip(p_order, 0, 0.9)
    n_orders = np.where(ordered, 1 + (rng.random(len(oa)) < 0.08), 0)
    order_album = np.repeat(oa, n_orders)
    order_t = np.repeat(last_touch, n_orders) + rng.exponential(1.5, n_orders.sum())
    in_period = order_t < days
    order_album, order_t = order_album[in_period], order_t[in_period]

    # ---- events table ------------------------------------------------------------------
    parts = [(imp_album, imp_t, 0)]
    for album, t, code in ((oa, open_t, 1), (re_album, re_t, 1), (share_album, share_t, 2), (edit_album, edit_t, 3)):
        ok = t < np.minimum(album_end[album] + 2, days)  # the app is still installed
        parts.append((album[ok], t[ok], code))
    ev_album = np.concatenate([p[0] for p in parts])
    ev_type = np.concatenate([np.full(len(p[0]), p[2], np.int8) for p in parts])
    true_us = _micros(start_us, np.concatenate([p[1] for p in parts]), reuse=True)
    del parts, imp_t, imp_album
    n_ev = len(ev_album)
    ev_user = owner[ev_album]

    # Arrival: seconds after the fact, or up to 48 h for offline clients (legitimate).
    server_us = rng.standard_exponential(n_ev, dtype=np.float32).astype(np.int64)
    server_us *= 2 * US_PER_S
    server_us += true_us
    offline = _some(rng, n_ev, mess.offline_events)
    server_us[offline] = true_us[offline] + (rng.uniform(10 / 60, 48, len(offline)) * US_PER_HOUR).astype(np.int64)

    # Device clocks: a few users' clocks are off, for all their events.
    skewed = _some(rng, n_users, mess.skewed_users)
    mode = rng.random(len(skewed))
    hours = rng.integers(1, 15, len(skewed)) * US_PER_HOUR
    skew = np.select(
        [mode < 0.45, mode < 0.65, mode < 0.82, mode < 0.9],
        [
            hours,  # ahead by whole hours (time-zone bug)
            -hours,  # behind by hours: looks like a late upload, undetectable
            rng.integers(1, 400, len(skewed)) * US_PER_DAY,  # days to a year ahead
            rng.integers(365, 10 * 365, len(skewed)) * US_PER_DAY,  # years in the future
        ],
        default=-rng.integers(4, 60, len(skewed)) * US_PER_DAY,  # weeks behind
    )
    user_skew = np.zeros(n_users, dtype=np.int64)
    user_skew[skewed] = skew
    is_skewed = np.zeros(n_users, dtype=bool)
    is_skewed[skewed] = True
    reset_user = np.zeros(n_users, dtype=bool)
    reset_user[skewed[mode >= 0.97]] = True  # clock reset to 1970, running from there
    client_us = true_us  # from here on, the client's view; skews are applied in place
    hit = np.flatnonzero(is_skewed[ev_user])
    reset = reset_user[ev_user[hit]]
    client_us[hit] += user_skew[ev_user[hit]]
    client_us[hit[reset]] -= start_us - rng.integers(0, 30, int(reset.sum())) * US_PER_DAY

    ev_user_id = ev_user.astype(np.int64)
    ev_user_id += 1  # user_id = index + 1
    ev_album_id = ev_album.astype(np.int64)
    ev_album_id += album_id[0]
    unknown_album = _some(rng, n_ev, mess.unknown_album_events)
    ev_album_id[unknown_album] = album_id[-1] + 1 + rng.integers(0, 1_000_000, len(unknown_album))
    unknown_user = _some(rng, n_ev, mess.unknown_user_events)
    ev_user_id[unknown_user] = n_users + 1 + rng.integers(0, 100_000, len(unknown_user))
    unknown_type = _some(rng, n_ev, mess.unknown_type_events)
    ev_type[unknown_type] = EVENT_TYPES.index("like")

    # Only skewed clocks can be ahead of arrival or more than 72 h behind it: offline
    # clients are at most 48 h late. Count what cleaning must correct among kept events.
    quarantined = np.zeros(len(hit), dtype=bool)
    for bad in (unknown_album, unknown_user, unknown_type):
        quarantined |= np.isin(hit, bad, assume_unique=True, kind="sort")
    lag = client_us[hit] - server_us[hit]
    future = int(((lag > 5 * US_PER_MIN) & ~quarantined).sum())
    past = int(((lag < -72 * US_PER_HOUR) & ~quarantined).sum())
    by_type = np.zeros(n_ev, dtype=bool)
    by_type[unknown_type] = True
    by_user = np.zeros(n_ev, dtype=bool)
    by_user[unknown_user] = True
    n_unknown_user = int((by_user & ~by_type).sum())
    by_type |= by_user
    n_unknown_album = int((~by_type[unknown_album]).sum())
    del by_type, by_user

    events = pa.table(
        {
            "event_id": _scramble(np.arange(n_ev, dtype=np.int64), seed),
            "user_id": ev_user_id,
            "album_id": ev_album_id,
            "event_type": _dictionary(ev_type, EVENT_TYPES),
            "ts": _timestamps(client_us),
            "server_ts": _timestamps(server_us),
        }
    )
    # Client retries: the same event again, half of them minutes later.
    dup = _some(rng, n_ev, mess.duplicate_events)
    if len(dup):
        resend = (rng.random(len(dup)) < 0.5) * (rng.exponential(15, len(dup)) * US_PER_MIN).astype(np.int64)
        copies = events.take(pa.array(dup)).set_column(5, "server_ts", _timestamps(server_us[dup] + resend))
        events = pa.concat_tables([events, copies])

    # ---- users, albums, orders, assignments tables -------------------------------------
    codes = [c.code for c in COUNTRIES]
    u = rng.random(n_users)
    missing = u < mess.missing_country
    empty = missing & (u < mess.missing_country / 7)
    lower = (u >= mess.missing_country) & (u < mess.missing_country + mess.lowercase_country)
    country_code = country.astype(np.int32)
    country_code[empty] = len(codes)
    country_code[lower] += len(codes) + 1
    dup_users = _some(rng, n_users, mess.duplicate_users)
    urows = np.concatenate([np.arange(n_users), dup_users])
    users_table = pa.table(
        {
            "user_id": user_id[urows],
            "country": _dictionary(
                country_code[urows], [*codes, "", *(c.lower() for c in codes)], null=(missing & ~empty)[urows]
            ),
            "language": _dictionary(language[urows], languages),
            "signup_at": _timestamps(_micros(start_us, signup_day[urows])),
            "platform": _dictionary(platform[urows], [p.value for p in Platform]),
        }
    )
    albums_table = pa.table(
        {
            "album_id": album_id,
            "library_id": user_id[owner],
            "kind": _dictionary(kind, [k.value for k in KINDS]),
            "theme": _dictionary(theme, THEMES),
            "title_generator": _dictionary(llm.astype(np.int8), [g.value for g in TitleGenerator]),
            "created_at": _timestamps(_micros(start_us, created)),
        }
    )

    n_ord = len(order_album)
    ord_country = country[owner[order_album]]
    rate = np.array([c.eur_per_unit for c in COUNTRIES])[ord_country]
    value_eur = (
        rng.lognormal(np.log(32), 0.45, n_ord)
        * np.array([_BOOK_PRICE[k.value] for k in KINDS])[kind[order_album]]
        * price_factor[order_album]
    )
    local = value_eur / rate
    cents = np.where(rate < 0.01, np.round(local) * 100, np.round(local * 100)).astype(np.int64)
    currencies = sorted({c.currency for c in COUNTRIES})
    cur_code = np.array([currencies.index(c.currency) for c in COUNTRIES])[ord_country]
    lower_cur = _some(rng, n_ord, mess.lowercase_currency)
    cur_code[lower_cur] += len(currencies)
    dup_orders = _some(rng, n_ord, mess.duplicate_orders)
    orows = np.concatenate([np.arange(n_ord), dup_orders])
    orders_table = pa.table(
        {
            "order_id": _scramble(np.arange(n_ord, dtype=np.int64), seed + 7)[orows],
            "user_id": user_id[owner[order_album]][orows],
            "album_id": album_id[order_album][orows],
            "ts": _timestamps(_micros(start_us, order_t[orows])),
            "value": _decimal_cents(cents[orows]),
            "currency": _dictionary(cur_code[orows], [*currencies, *(c.lower() for c in currencies)]),
        }
    )

    experiments = list(EXPERIMENTS)
    variants = [v for pair in EXPERIMENTS.values() for v in pair]
    a_user = np.concatenate([user_id[idx] for idx, *_ in assignments])
    a_exp = np.concatenate([np.full(len(idx), experiments.index(name), np.int8) for idx, name, *_ in assignments])
    a_var = np.concatenate([v + 2 * experiments.index(name) for _, name, v, _ in assignments]).astype(np.int8)
    a_day = np.concatenate([day for *_, day in assignments])
    dup_assign = _some(rng, len(a_user), mess.duplicate_assignments)
    arows = np.concatenate([np.arange(len(a_user)), dup_assign])
    assignments_table = pa.table(
        {
            "user_id": a_user[arows],
            "experiment": _dictionary(a_exp[arows], experiments),
            "variant": _dictionary(a_var[arows], variants),
            "assigned_at": _timestamps(_micros(start_us, a_day[arows])),
        }
    )

    planted = Planted(
        duplicate_events=len(dup),
        future_skew_events=future,
        past_skew_events=past,
        # cleaning checks the type, then the user, then the album: each event counts once
        unknown_type_events=len(unknown_type),
        unknown_user_events=n_unknown_user,
        unknown_album_events=n_unknown_album,
        missing_country_users=int(missing.sum()),
        lowercase_country_users=int(lower.sum()),
        duplicate_users=len(dup_users),
        duplicate_orders=len(dup_orders),
        lowercase_currency_orders=len(lower_cur),
        duplicate_assignments=len(dup_assign),
        title_strategy_effect=effect,
    )
    tables = {
        Table.USERS: users_table,
        Table.ALBUMS: albums_table,
        Table.EVENTS: events,
        Table.ORDERS: orders_table,
        Table.ASSIGNMENTS: assignments_table,
    }
    return tables, planted
