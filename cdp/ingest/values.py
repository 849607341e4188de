"""SQL expressions that parse raw text columns into typed values (rendered once, for DuckDB).

Every raw column arrives as text. A value that is present but does not parse is a reject
(``not a date`` ...); an empty one is NULL. Dates accept ISO and Turkish ``31.12.2024``
forms, numbers a decimal comma, booleans English and Turkish words; timestamps with an
offset are converted, naive ones are read in the source's time zone.
"""

from __future__ import annotations

from sqlglot import exp

__all__ = ["REJECT_REASON", "blank_to_null", "ident", "lit", "parse_expr", "timestamp_expr"]

REJECT_REASON = {
    "integer": "not an integer",
    "number": "not a number",
    "date": "not a date",
    "timestamp": "not a timestamp",
    "boolean": "not a boolean",
    "text": "not text",
}

_DATE_FORMATS = ["%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y"]
_TS_FORMATS = ["%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y/%m/%d %H:%M:%S",
               "%d.%m.%Y", "%d/%m/%Y"]
_TRUE = ["true", "t", "1", "yes", "y", "evet", "e", "doğru", "var"]
_FALSE = ["false", "f", "0", "no", "n", "hayır", "hayir", "h", "yanlış", "yok"]


def ident(name: str) -> str:
    """A quoted SQL identifier (column names come from cdp.toml)."""
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def lit(value: str) -> str:
    """A string literal node rendered for DuckDB."""
    return exp.Literal.string(value).sql(dialect="duckdb")


def _list(values: list[str]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


def blank_to_null(raw: str) -> str:
    """NULL for an empty or all-space value, else the value without surrounding spaces (trim
    only when the value starts or ends with one: trimming 50M values allocates 50M strings)."""
    return f"NULLIF(CASE WHEN {raw} LIKE ' %' OR {raw} LIKE '% ' THEN trim({raw}) ELSE {raw} END, '')"


def timestamp_expr(v: str, src_tz: str, target_tz: str, fmt: str | None = None) -> str:
    """Naive timestamp in ``target_tz`` from text ``v`` (naive text is in ``src_tz``)."""
    naive = (
        f"try_strptime({v}, {lit(fmt)})" if fmt else
        f"coalesce(TRY_CAST({v} AS TIMESTAMP), try_strptime({v}, {_list(_TS_FORMATS)}))"
    )
    if src_tz != target_tz:
        naive = f"timezone({lit(target_tz)}, timezone({lit(src_tz)}, {naive}))"
    aware = f"timezone({lit(target_tz)}, TRY_CAST({v} AS TIMESTAMPTZ))"
    # fast path: "YYYY-MM-DD HH:MM:SS" (or shorter) cannot carry an offset
    return (
        f"(CASE WHEN length({v}) > 19 AND regexp_matches({v}, "
        f"'\\d:\\d\\d(:\\d\\d(\\.\\d+)?)?\\s*([zZ]|[+-]\\d\\d(:?\\d\\d)?)$') "
        f"THEN {aware} ELSE {naive} END)"
    )


def parse_expr(v: str, vtype: str, *, src_tz: str = "UTC", target_tz: str = "UTC", fmt: str | None = None) -> str:
    """Typed value of the (already blank-to-null) text expression ``v``."""
    if vtype == "text":
        return f"nfc_normalize({v})"
    if vtype == "integer":
        return (
            f"coalesce(TRY_CAST({v} AS BIGINT), CASE WHEN regexp_matches({v}, '^-?[0-9]+\\.0+$') "
            f"THEN TRY_CAST(split_part({v}, '.', 1) AS BIGINT) END)"
        )
    if vtype == "number":
        return (
            f"coalesce(TRY_CAST({v} AS DOUBLE), "
            f"CASE WHEN regexp_matches({v}, '^-?[0-9.]*,[0-9]+$') "
            f"THEN TRY_CAST(replace(replace({v}, '.', ''), ',', '.') AS DOUBLE) END)"
        )
    if vtype == "date":
        if fmt:
            return f"CAST(try_strptime({v}, {lit(fmt)}) AS DATE)"
        return (
            f"coalesce(TRY_CAST({v} AS DATE), CAST(try_strptime({v}, {_list(_DATE_FORMATS)}) AS DATE), "
            f"CAST(TRY_CAST({v} AS TIMESTAMP) AS DATE))"
        )
    if vtype == "timestamp":
        return timestamp_expr(v, src_tz, target_tz, fmt)
    if vtype == "boolean":
        return (
            f"(CASE WHEN lower({v}) IN ({', '.join(lit(x) for x in _TRUE)}) THEN true "
            f"WHEN lower({v}) IN ({', '.join(lit(x) for x in _FALSE)}) THEN false END)"
        )
    raise ValueError(f"unknown type {vtype}")
