"""``kind = "postgres"``: read a PostgreSQL table or query, incrementally by a cursor column.

```toml
[sources.orders]
kind = "postgres"
dsn_env = "SHOP_PG_DSN"        # environment variable with the DSN (libpq string or postgresql:// URI)
table = "sales.orders"         # or: query = "SELECT ... FROM ..."
cursor = "updated_at"          # incremental column (a timestamp or an increasing id)
batch_size = 50000             # rows per Arrow batch
entity = "events"
...                            # the same mapping keys as file sources
```

Rows stream through DuckDB's postgres scanner (binary COPY, cursor filter pushed down to
the server); psycopg runs the planning query with bound parameters (see
:mod:`connectors.sources.database`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdp.errors import IngestError
from connectors.sources.base import register_reader
from connectors.sources.database import DatabaseReader

__all__ = ["PostgresReader"]


class PostgresReader(DatabaseReader):
    """Reads one ``kind = "postgres"`` source."""

    kind = "postgres"
    quote_char = '"'

    def _driver(self) -> Any:
        import psycopg

        try:
            con = psycopg.connect(self._dsn(), connect_timeout=10, autocommit=True)
        except psycopg.Error as exc:
            raise IngestError(f"cannot connect: {self._redact(exc)}", source=self.name) from None
        con.execute("SET TimeZone = 'UTC'")
        return con

    def _literal(self, driver: Any, value: str) -> str:
        from psycopg import sql

        return str(sql.Literal(value).as_string(driver))

    def _attach_options(self) -> str:
        return "TYPE postgres, READ_ONLY"


def _factory(name: str, config: Any, root: Path) -> PostgresReader:
    return PostgresReader(name, config, root)


register_reader("postgres", _factory)
