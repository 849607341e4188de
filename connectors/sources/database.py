"""What the PostgreSQL and MySQL source readers share: config checks, DuckDB scanner, cursor.

Rows are read through DuckDB's postgres/mysql scanner (loaded offline from its PyPI wheel):
it speaks the server's binary protocol in C++, pushes the cursor filter down to the
server and hands out Arrow record batches of ``batch_size`` rows, so a table is never
held in memory whole. Values arrive as text, as from the file readers (ingestion parses
them per declared type); ISO formats throughout, timestamps with an offset in UTC. The Python driver (psycopg / pymysql) only runs the small planning
query (how many new rows, the new high-water mark) with bound parameters, and quotes the
cursor bounds when a ``query`` source is wrapped (the scanner's raw-query function takes
one SQL text).

Incremental loading: with ``cursor = "updated_at"`` (or an id), ``plan`` fixes the new
high-water mark ``hi`` and ``batches`` reads ``last < cursor <= hi``; ingestion stores
``hi`` once the rows are committed. The cursor must grow when a row is written (a sequence
id, or an ``updated_at`` set on every write). Rows whose cursor is null are read by the
first load only. Without ``cursor``, each run reads everything (ingestion is idempotent).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cdp.errors import ConfigError, IngestError
from connectors.sources.base import ReadUnit, SourceState

__all__ = ["DEFAULT_BATCH_SIZE", "DatabaseReader"]

DEFAULT_BATCH_SIZE = 50_000
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAME_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_ALIAS = "cdp_src"


class DatabaseReader:
    """Base of the database source readers (one configured ``[sources.NAME]``)."""

    kind = ""              # "postgres" | "mysql"
    quote_char = '"'

    def __init__(self, name: str, config: Any, root: Path) -> None:
        self.name = name
        self.config = config
        self.root = root
        table, query = getattr(config, "table", None), getattr(config, "query", None)
        if bool(table) == bool(query):
            raise ConfigError(
                f"a {self.kind} source needs exactly one of `table` or `query`", key=f"sources.{name}"
            )
        self.table: str | None = table
        self.query: str | None = query
        if table is not None and not all(_NAME_PART.match(p) for p in table.split(".")):
            raise ConfigError(
                "must be a table name, optionally schema-qualified (schema.table)", key=f"sources.{name}.table"
            )
        env = getattr(config, "dsn_env", None)
        if not env or not _ENV_NAME.match(env):
            raise ConfigError(
                f"a {self.kind} source needs `dsn_env`, the NAME of the environment variable holding its DSN",
                key=f"sources.{name}.dsn_env",
            )
        self.dsn_env: str = env
        self.cursor: str | None = getattr(config, "cursor", None)
        options = dict(getattr(config, "options", None) or {})
        size = getattr(config, "batch_size", None) or options.get("batch_size", DEFAULT_BATCH_SIZE)
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise ConfigError("must be a positive whole number of rows", key=f"sources.{name}.batch_size")
        self.batch_size = size
        self.unit_path = f"table:{table}" if table else f"query:{name}"

    # -- connections (kind-specific) ----------------------------------------------------
    def _dsn(self) -> str:
        dsn = os.environ.get(self.dsn_env, "").strip()
        if not dsn:
            raise IngestError(
                f"the environment variable {self.dsn_env} (its dsn_env) is not set",
                source=self.name,
                hint=f"export {self.dsn_env}='...' with the connection string of the {self.kind} database",
            )
        return dsn

    def _redact(self, exc: BaseException) -> str:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        dsn = os.environ.get(self.dsn_env, "")
        return text.replace(dsn, f"${self.dsn_env}") if dsn else text

    def _driver(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _literal(self, driver: Any, value: str) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _attach_options(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _scanner_dsn(self) -> str:
        return self._dsn()

    def _ident(self, name: str) -> str:
        q = self.quote_char
        return q + name.replace(q, q + q) + q

    def _source_sql(self) -> str:
        """The source as a FROM item in the server's own dialect."""
        if self.table:
            return ".".join(self._ident(p) for p in self.table.split("."))
        return f"({self.query}) AS _cdp_q"

    @contextmanager
    def _duckdb(self) -> Iterator[Any]:
        import duckdb

        con = duckdb.connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            package, ext = {
                "postgres": ("duckdb_extension_postgres_scanner", "postgres_scanner"),
                "mysql": ("duckdb_extension_mysql_scanner", "mysql_scanner"),
            }[self.kind]
            try:
                path = resources.files(package) / "extensions" / f"v{duckdb.__version__}" / f"{ext}.duckdb_extension"
            except ModuleNotFoundError as exc:
                raise IngestError(
                    f"the DuckDB {self.kind} scanner is not installed", source=self.name,
                    hint=f"pip install 'cdp[{self.kind}]'",
                ) from exc
            con.execute(f"LOAD '{path}'")  # a fixed path inside an installed package
            dsn = self._scanner_dsn().replace("'", "''")
            try:
                con.execute(f"ATTACH '{dsn}' AS {_ALIAS} ({self._attach_options()})")
            except duckdb.Error as exc:
                raise IngestError(f"cannot connect: {self._redact(exc)}", source=self.name) from None
            yield con
        finally:
            con.close()

    # -- the protocol -------------------------------------------------------------------
    def plan(self, state: SourceState) -> list[ReadUnit]:
        """One unit (the table or query) when it has rows past the stored cursor, else none."""
        previous = state.units.get(self.unit_path)
        last = previous.cursor if previous is not None else None
        driver = self._driver()
        try:
            cur = driver.cursor()
            src = self._source_sql()
            if self.cursor is None:
                cur.execute(f"SELECT count(*) FROM {src}")
                (count,) = cur.fetchone()
                hi = None
            else:
                c = self._ident(self.cursor)
                if last is None:
                    cur.execute(f"SELECT count(*), max({c}) FROM {src}")
                else:
                    # with parameters the driver reads % as a placeholder: double those of a query
                    cur.execute(f"SELECT count(*), max({c}) FROM {src.replace('%', '%%')} WHERE {c} > %s", [last])
                count, hi_value = cur.fetchone()
                hi = _cursor_text(hi_value)
                if hi is None and last is not None:
                    return []
        except Exception as exc:
            if isinstance(exc, (IngestError, ConfigError)):
                raise
            raise IngestError(f"cannot plan the read: {self._redact(exc)}", source=self.name) from None
        finally:
            driver.close()
        if not count:
            return []
        rows_before = previous.rows if previous is not None else 0
        return [ReadUnit(path=self.unit_path, rows=rows_before + int(count), cursor=hi if self.cursor else None)]

    def batches(self, unit: ReadUnit, state: SourceState) -> Iterator[pa.RecordBatch]:
        """Stream the planned rows as Arrow batches with ``_file`` and ``_line`` columns."""
        import duckdb

        previous = state.units.get(self.unit_path)
        last = previous.cursor if previous is not None and self.cursor else None
        line = previous.rows if previous is not None else 0
        with self._duckdb() as con:
            try:
                sql, params = self._read_sql(con, last, unit.cursor)
                reader = con.execute(sql, params).to_arrow_reader(self.batch_size)
                for batch in reader:
                    if batch.num_rows == 0:
                        continue
                    n = batch.num_rows
                    files = pa.array([self.unit_path] * n, pa.string())
                    lines = pa.array(range(line + 1, line + n + 1), pa.int64())
                    line += n
                    yield pa.RecordBatch.from_arrays(
                        [*batch.columns, files, lines], names=[*batch.schema.names, "_file", "_line"]
                    )
            except duckdb.Error as exc:
                raise IngestError(f"read failed: {self._redact(exc)}", source=self.name) from None

    def _read_sql(self, con: Any, last: str | None, hi: str | None) -> tuple[str, list[Any]]:
        if self.table:
            parts = self.table.split(".")
            target = ".".join([_ALIAS, *(_duck_ident(p) for p in parts)])
            cols = con.execute(f"DESCRIBE SELECT * FROM {target}").fetchall()
            select = ", ".join(_duck_select(str(n), str(t)) for n, t, *_ in cols)
            if self.cursor is None or hi is None:
                return f"SELECT {select} FROM {target}", []
            types = {str(n): str(t) for n, t, *_ in cols}
            if self.cursor not in types:
                raise IngestError(f"cursor column '{self.cursor}' is not in table {self.table}", source=self.name)
            c, t = _duck_ident(self.cursor), types[self.cursor]
            if last is None:
                return f"SELECT {select} FROM {target} WHERE {c} <= CAST(? AS {t}) OR {c} IS NULL", [hi]
            return (
                f"SELECT {select} FROM {target} WHERE {c} > CAST(? AS {t}) AND {c} <= CAST(? AS {t})",
                [last, hi],
            )
        # a query source: the bounds are quoted by the server's driver, the text is one bound value
        inner = f"SELECT * FROM {self._source_sql()}"
        if self.cursor is not None and hi is not None:
            driver = self._driver()
            try:
                c = self._ident(self.cursor)
                if last is None:
                    inner += f" WHERE {c} <= {self._literal(driver, hi)} OR {c} IS NULL"
                else:
                    inner += f" WHERE {c} > {self._literal(driver, last)} AND {c} <= {self._literal(driver, hi)}"
            finally:
                driver.close()
        fn = "postgres_query" if self.kind == "postgres" else "mysql_query"
        cols = con.execute(f"DESCRIBE SELECT * FROM {fn}('{_ALIAS}', ?)", [inner]).fetchall()
        select = ", ".join(_duck_select(str(n), str(t)) for n, t, *_ in cols)
        return f"SELECT {select} FROM {fn}('{_ALIAS}', ?)", [inner]


def _duck_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duck_select(name: str, duck_type: str) -> str:
    """Every column as text, like the file readers: ingestion parses and validates the raw
    values per declared type (and names row and field in rejects), whatever the source."""
    ident = _duck_ident(name)
    if duck_type.upper() == "VARCHAR":
        return ident
    return f"CAST({ident} AS VARCHAR) AS {ident}"


def _cursor_text(value: Any) -> str | None:
    """A cursor value as text that both servers read back as the same value."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat(sep=" "))
    if isinstance(value, pa.Scalar):
        return _cursor_text(value.as_py())
    return str(value)


def max_cursor(batch: pa.RecordBatch, column: str) -> str | None:
    """The largest cursor value of a batch, as text (kept for ingestion diagnostics)."""
    return _cursor_text(pc.max(batch.column(column)))
