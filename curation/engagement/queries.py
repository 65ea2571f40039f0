"""Named queries: ``sql/queries/<name>.sql`` files with a header that says what they are.

The header is the leading block of ``--`` comment lines::

    -- title: Open rate by album kind
    -- description: Of the Memories first shown in the period, the share that were opened,
    --   per album kind.                      (indented lines continue the previous key)
    -- param: start_date DATE = NULL  first day included (NULL: from the beginning)
    -- param: top INTEGER = 25        how many rows
    -- param: experiment VARCHAR      required: no default
    -- chart: bar x=kind y=open_rate error_low=open_rate_low error_high=open_rate_high

Parameters are used in the SQL as DuckDB prepared parameters (``$start_date``) and bound by
:func:`run_named_query`; values are converted to their declared type first (so ``"2025-01-31"``
from a command line becomes a ``date``), never formatted into the SQL. A query whose SQL
uses a ``$name`` its header does not declare (or the reverse) is refused when loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curation.settings import REPO_ROOT

if TYPE_CHECKING:
    from curation.engagement.sandbox import SqlResult

QUERIES_DIR = REPO_ROOT / "sql" / "queries"


class QueryError(ValueError):
    """Base of the named-query errors."""


class UnknownQueryError(QueryError, LookupError):
    pass


class QueryDefinitionError(QueryError):
    """A .sql file's header is malformed or does not match its SQL."""


class QueryParameterError(QueryError):
    pass


class UnknownParameterError(QueryParameterError):
    pass


class MissingParameterError(QueryParameterError):
    pass


class InvalidParameterError(QueryParameterError):
    pass


class ParamType(StrEnum):
    DATE = "DATE"
    TIMESTAMP = "TIMESTAMP"
    INTEGER = "INTEGER"
    DOUBLE = "DOUBLE"
    VARCHAR = "VARCHAR"
    BOOLEAN = "BOOLEAN"


_TYPE_ALIASES = {
    "INT": ParamType.INTEGER, "BIGINT": ParamType.INTEGER, "INTEGER": ParamType.INTEGER,
    "FLOAT": ParamType.DOUBLE, "REAL": ParamType.DOUBLE, "DOUBLE": ParamType.DOUBLE,
    "TEXT": ParamType.VARCHAR, "STRING": ParamType.VARCHAR, "VARCHAR": ParamType.VARCHAR,
    "BOOL": ParamType.BOOLEAN, "BOOLEAN": ParamType.BOOLEAN,
    "DATE": ParamType.DATE, "TIMESTAMP": ParamType.TIMESTAMP,
}  # fmt: skip
_EXAMPLES = {
    ParamType.DATE: "2025-12-31",
    ParamType.TIMESTAMP: "2025-12-31T18:00:00",
    ParamType.INTEGER: "25",
    ParamType.DOUBLE: "0.5",
    ParamType.VARCHAR: "DE",
    ParamType.BOOLEAN: "true",
}
_TRUE = {"true", "t", "yes", "y", "1", "on"}
_FALSE = {"false", "f", "no", "n", "0", "off"}


def convert(value: object, ptype: ParamType, name: str = "value") -> object:
    """``value`` (a string from a command line or widget, or a Python value) as ``ptype``."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().upper() == "NULL":
        return None

    def bad(reason: str = "") -> InvalidParameterError:
        return InvalidParameterError(f"{name} expects {ptype.value} like {_EXAMPLES[ptype]}, got {value!r}{reason}.")

    try:
        if ptype is ParamType.DATE:
            if isinstance(value, datetime):
                return value.date()
            if isinstance(value, date):
                return value
            return date.fromisoformat(str(value).strip())
        if ptype is ParamType.TIMESTAMP:
            if isinstance(value, datetime):
                return value
            if isinstance(value, date):
                return datetime(value.year, value.month, value.day)
            return datetime.fromisoformat(str(value).strip())
        if ptype is ParamType.INTEGER:
            if isinstance(value, bool):
                raise bad()
            if isinstance(value, float):
                if not value.is_integer():
                    raise bad(" (not a whole number)")
                return int(value)
            return int(str(value).strip()) if not isinstance(value, int) else value
        if ptype is ParamType.DOUBLE:
            if isinstance(value, bool):
                raise bad()
            return float(value) if not isinstance(value, str) else float(value.strip())
        if ptype is ParamType.BOOLEAN:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise bad()
        if not isinstance(value, str):
            raise bad(" (not text)")
        return value
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InvalidParameterError):
            raise
        raise bad() from None


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: ParamType
    default: Any = None  # already converted to ``type``; None is SQL NULL
    required: bool = False
    description: str = ""

    def convert(self, value: object) -> object:
        return convert(value, self.type, self.name)


@dataclass(frozen=True)
class ChartHint:
    """How a query's result is best drawn; read by :mod:`curation.engagement.charts`."""

    kind: str  # bar | line | funnel | heatmap | scatter | table
    options: dict[str, str] = field(default_factory=dict)  # x=..., y=a,b, color=..., error_low=...

    KINDS = ("bar", "line", "funnel", "heatmap", "scatter", "table")

    def get(self, key: str) -> str | None:
        return self.options.get(key)

    def columns(self, key: str) -> list[str]:
        value = self.options.get(key)
        return [c.strip() for c in value.split(",") if c.strip()] if value else []


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    params: tuple[QueryParam, ...]
    sql: str  # the whole file; the header is SQL comments
    path: Path
    chart: ChartHint | None = None

    def param(self, name: str) -> QueryParam:
        for p in self.params:
            if p.name == name:
                return p
        raise UnknownParameterError(self._unknown(name))

    def _unknown(self, name: str) -> str:
        known = ", ".join(p.name for p in self.params) or "none"
        return f"The query {self.name!r} has no parameter {name!r}; its parameters are: {known}."

    def bind(self, values: dict[str, object] | None = None) -> dict[str, object]:
        """Every declared parameter's value, converted; defaults where none is given."""
        values = dict(values or {})
        for name in values:
            if not any(p.name == name for p in self.params):
                raise UnknownParameterError(self._unknown(name))
        bound: dict[str, object] = {}
        for p in self.params:
            if p.name in values:
                bound[p.name] = p.convert(values[p.name])
            elif p.required:
                raise MissingParameterError(
                    f"The query {self.name!r} needs {p.name} ({p.type.value}, e.g. {_EXAMPLES[p.type]})."
                )
            else:
                bound[p.name] = p.default
        return bound


# ---------------------------------------------------------------------------------------
# parsing

_KEY = re.compile(r"^--\s?(?P<key>[a-z_]+):\s*(?P<value>.*)$")
_CONTINUATION = re.compile(r"^--\s{2,}(?P<value>\S.*)$")
_PARAM = re.compile(
    r"^(?P<name>[a-z_][a-z0-9_]*)\s+(?P<type>[A-Za-z]+)"
    r"(?:\s*=\s*(?P<default>'(?:[^']|'')*'|\S+))?(?:\s+(?P<doc>.*))?$"
)
_SQL_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_STRINGS_AND_COMMENTS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)


def parse_query(text: str, name: str, path: Path | None = None) -> NamedQuery:
    """Parse one named query's file content (see the module docstring)."""
    where = str(path or name)
    header: list[tuple[str, str]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        key = _KEY.match(stripped)
        more = _CONTINUATION.match(line.rstrip())
        if key:
            header.append((key.group("key"), key.group("value").strip()))
        elif more and header:
            k, v = header[-1]
            header[-1] = (k, f"{v} {more.group('value').strip()}")
    keys = [k for k, _ in header]
    unknown = sorted(set(keys) - {"title", "description", "param", "chart"})
    if unknown:
        raise QueryDefinitionError(
            f"{where}: unknown header key(s) {', '.join(unknown)}; use title, description, param, chart."
        )
    titles = [v for k, v in header if k == "title"]
    if len(titles) != 1 or not titles[0]:
        raise QueryDefinitionError(f"{where}: the header needs exactly one '-- title: ...' line.")
    params = tuple(_parse_param(v, where) for k, v in header if k == "param")
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise QueryDefinitionError(f"{where}: a parameter is declared twice ({', '.join(names)}).")
    used = set(_SQL_PARAM.findall(_STRINGS_AND_COMMENTS.sub(" ", text)))
    undeclared, unused = sorted(used - set(names)), sorted(set(names) - used)
    if undeclared:
        raise QueryDefinitionError(
            f"{where}: the SQL uses ${', $'.join(undeclared)} but the header declares no "
            f"'-- param: {undeclared[0]} TYPE [= default]' for it."
        )
    if unused:
        raise QueryDefinitionError(
            f"{where}: parameter(s) {', '.join(unused)} declared but not used as $name in the SQL."
        )
    charts = [v for k, v in header if k == "chart"]
    return NamedQuery(
        name=name,
        title=titles[0],
        description=" ".join(v for k, v in header if k == "description"),
        params=params,
        sql=text,
        path=path or Path(f"{name}.sql"),
        chart=_parse_chart(charts[0], where) if charts else None,
    )


def _parse_param(spec: str, where: str) -> QueryParam:
    match = _PARAM.match(spec)
    if not match:
        raise QueryDefinitionError(
            f"{where}: cannot read '-- param: {spec}'; write '-- param: name TYPE [= default] [description]', "
            "e.g. '-- param: start_date DATE = 2025-01-01 first day included'."
        )
    type_name = match.group("type").upper()
    if type_name not in _TYPE_ALIASES:
        raise QueryDefinitionError(
            f"{where}: parameter {match.group('name')} has type {type_name}; "
            f"use one of {', '.join(t.value for t in ParamType)}."
        )
    ptype = _TYPE_ALIASES[type_name]
    raw_default = match.group("default")
    required = raw_default is None
    default = None
    if raw_default is not None:
        if raw_default.startswith("'") and raw_default.endswith("'"):
            raw_default = raw_default[1:-1].replace("''", "'")
        try:
            default = convert(raw_default, ptype, match.group("name"))
        except InvalidParameterError as exc:
            raise QueryDefinitionError(f"{where}: bad default: {exc}") from None
    return QueryParam(match.group("name"), ptype, default, required, (match.group("doc") or "").strip())


def _parse_chart(spec: str, where: str) -> ChartHint:
    parts = spec.split()
    if not parts or parts[0] not in ChartHint.KINDS:
        raise QueryDefinitionError(f"{where}: '-- chart: {spec}' must start with one of {', '.join(ChartHint.KINDS)}.")
    options = {}
    for part in parts[1:]:
        key, sep, value = part.partition("=")
        if not sep or not value:
            raise QueryDefinitionError(f"{where}: chart option {part!r} must be key=value, e.g. x=kind.")
        options[key] = value
    return ChartHint(parts[0], options)


# ---------------------------------------------------------------------------------------
# registry


def load_query(path: Path) -> NamedQuery:
    path = Path(path)
    return parse_query(path.read_text(encoding="utf-8"), path.stem, path)


def list_queries(folder: Path = QUERIES_DIR) -> list[NamedQuery]:
    """Every named query in ``folder``, by name (files are read now, not at import)."""
    return [load_query(p) for p in sorted(Path(folder).glob("*.sql"))]


def get_query(name: str, folder: Path = QUERIES_DIR) -> NamedQuery:
    path = Path(folder) / f"{name}.sql"
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", name or "") or not path.is_file():
        names = ", ".join(p.stem for p in sorted(Path(folder).glob("*.sql"))) or "none"
        raise UnknownQueryError(f"No named query {name!r}. The named queries are: {names}.")
    return load_query(path)


def run_named_query(
    query: str | NamedQuery,
    params: dict[str, object] | None = None,
    **run_sql_options: Any,
) -> SqlResult:
    """Bind ``params`` (strings or typed values) and run the query through the sandbox:
    ``run_named_query("funnel", {"country": "DE"}, db_path=...)``; options go to ``run_sql``."""
    from curation.engagement.sandbox import run_sql

    named = get_query(query) if isinstance(query, str) else query
    return run_sql(named.sql, params=named.bind(params), **run_sql_options)
