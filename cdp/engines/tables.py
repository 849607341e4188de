"""Which store tables leave the store for an engine, which columns, and in which buckets.

Segments read customers, events, consent_events, objections, segment_builds,
segment_members, customer_merges and model_scores (the rule compiler's contract). Only
those leave the store, and only their pseudonymous columns: identities, the vault, keys,
sync state and the audit log never do, and consent_events loses its payload, evidence,
actor and identifier pseudonym (data minimization, PRIVACY.md §2).

Each table is cut into *buckets* by an expression that PostgreSQL and DuckDB compute
identically (md5 prefixes, months, build ids). A push compares per-bucket fingerprints
(row count and an order-independent hash of the rows) with those of the last push and
rewrites only the buckets that changed, so new events re-send one month, and an erased
customer's rows disappear from the engine at the next push.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    import duckdb

__all__ = ["TABLES", "TableSpec", "bucket_fingerprints", "quote", "select_list", "table_columns"]


@dataclass(frozen=True)
class TableSpec:
    """How one canonical table is shipped: columns left out and its bucket expression."""

    name: str
    bucket_duckdb: str
    bucket_postgres: str
    exclude: tuple[str, ...] = ()
    # a monthly bucket is deleted by a ts range in PostgreSQL (uses the BRIN index)
    month_column: str | None = None
    indexes: tuple[str, ...] = ()


def _md5(col: str, n: int) -> str:
    return f"substr(md5(coalesce({col}, '')), 1, {n})"


TABLES: tuple[TableSpec, ...] = (
    TableSpec("customers", _md5("customer_id", 2), _md5("customer_id", 2), indexes=("customer_id",)),
    TableSpec(
        "events",
        "strftime(ts, '%Y-%m')",
        "to_char(ts, 'YYYY-MM')",
        month_column="ts",
        indexes=("customer_id",),
    ),
    TableSpec(
        "consent_events",
        _md5("customer_id", 1),
        _md5("customer_id", 1),
        exclude=("payload", "evidence", "actor", "id_hash", "iys_transaction_id"),
        indexes=("customer_id",),
    ),
    TableSpec("objections", _md5("customer_id", 1), _md5("customer_id", 1)),
    TableSpec("customer_merges", _md5("old_id", 1), _md5("old_id", 1)),
    TableSpec("segment_builds", "CAST(build_id AS VARCHAR)", "CAST(build_id AS VARCHAR)"),
    TableSpec(
        "segment_members",
        "CAST(build_id AS VARCHAR)",
        "CAST(build_id AS VARCHAR)",
        indexes=("build_id",),
    ),
    TableSpec(
        "model_scores",
        "name || ':' || CAST(version AS VARCHAR)",
        "name || ':' || CAST(version AS VARCHAR)",
        indexes=("customer_id",),
    ),
)


def quote(name: str, dialect: str = "duckdb") -> str:
    """A column or table name as a quoted identifier (names of traits come from cdp.toml)."""
    return exp.to_identifier(name, quoted=True).sql(dialect=dialect)


def table_columns(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> list[tuple[str, str]]:
    """(name, DuckDB type) of the columns of ``spec`` that are shipped, in table order."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ? "
        "ORDER BY column_index",
        [spec.name],
    ).fetchall()
    return [(str(n), str(t)) for n, t in rows if n not in spec.exclude]


def select_list(columns: list[tuple[str, str]], dialect: str = "duckdb") -> str:
    return ", ".join(quote(n, dialect) for n, _ in columns)


def bucket_fingerprints(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, columns: list[tuple[str, str]]
) -> dict[str, tuple[int, str]]:
    """{bucket: (rows, digest)} of the shipped columns of ``spec`` in the store."""
    cols = select_list(columns)
    rows = con.execute(
        f"SELECT {spec.bucket_duckdb} AS b, count(*), CAST(bit_xor(hash({cols})) AS VARCHAR) "
        f"FROM {quote(spec.name)} GROUP BY ALL"
    ).fetchall()
    return {str(b): (int(n), str(d)) for b, n, d in rows}
