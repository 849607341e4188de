"""``kind = "mysql"``: read a MySQL/MariaDB table or query, incrementally by a cursor column.

```toml
[sources.customers_erp]
kind = "mysql"
dsn_env = "ERP_MYSQL_DSN"      # "host=... port=3306 user=... password=... database=..." or mysql://user:pw@host:3306/db
table = "musteriler"           # or: query = "SELECT ..."
cursor = "guncelleme"          # incremental column
batch_size = 50000
entity = "customers"
```

Rows stream through DuckDB's mysql scanner with the cursor filter pushed down
(``mysql_experimental_filter_pushdown``, checked by the tests against MariaDB); pymysql
runs the planning query with bound parameters and quotes the bounds of a wrapped query.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from cdp.errors import ConfigError, IngestError
from connectors.sources.base import register_reader
from connectors.sources.database import DatabaseReader

__all__ = ["MySQLReader", "parse_mysql_dsn"]

_KEYS = {
    "host": "host", "port": "port", "user": "user", "username": "user",
    "password": "password", "passwd": "password", "database": "database", "db": "database",
    "dbname": "database", "socket": "unix_socket", "unix_socket": "unix_socket",
}


def parse_mysql_dsn(dsn: str) -> dict[str, Any]:
    """``host=.. user=..`` or ``mysql://user:pw@host:port/db`` -> pymysql keyword arguments."""
    out: dict[str, Any] = {}
    if "://" in dsn:
        url = urlparse(dsn)
        if url.scheme not in ("mysql", "mariadb"):
            raise ValueError("a MySQL DSN URI starts with mysql://")
        if url.hostname:
            out["host"] = url.hostname
        if url.port:
            out["port"] = url.port
        if url.username:
            out["user"] = unquote(url.username)
        if url.password:
            out["password"] = unquote(url.password)
        if url.path.strip("/"):
            out["database"] = url.path.strip("/")
    else:
        for item in shlex.split(dsn):
            key, sep, value = item.partition("=")
            if not sep or key.strip().lower() not in _KEYS:
                raise ValueError("expected key=value pairs (host, port, user, password, database, socket)")
            out[_KEYS[key.strip().lower()]] = value
    if "port" in out:
        out["port"] = int(out["port"])
    return out


class MySQLReader(DatabaseReader):
    """Reads one ``kind = "mysql"`` source."""

    kind = "mysql"
    quote_char = "`"

    def _params(self) -> dict[str, Any]:
        try:
            return parse_mysql_dsn(self._dsn())
        except ValueError as exc:
            raise ConfigError(
                f"the DSN in ${self.dsn_env} is not readable: {exc}", key=f"sources.{self.name}.dsn_env"
            ) from None

    def _driver(self) -> Any:
        import pymysql

        try:
            return pymysql.connect(**self._params(), connect_timeout=10, autocommit=True, charset="utf8mb4")
        except pymysql.Error as exc:
            raise IngestError(f"cannot connect: {self._redact(exc)}", source=self.name) from None

    def _literal(self, driver: Any, value: str) -> str:
        return str(driver.escape(value))

    def _scanner_dsn(self) -> str:
        p = self._params()
        names = {"unix_socket": "socket"}
        return " ".join(f"{names.get(k, k)}={v}" for k, v in p.items())

    def _attach_options(self) -> str:
        return "TYPE mysql, READ_ONLY"

    def _read_sql(self, con: Any, last: str | None, hi: str | None) -> tuple[str, list[Any]]:
        con.execute("SET mysql_experimental_filter_pushdown = true")
        return super()._read_sql(con, last, hi)


def _factory(name: str, config: Any, root: Path) -> MySQLReader:
    return MySQLReader(name, config, root)


register_reader("mysql", _factory)
