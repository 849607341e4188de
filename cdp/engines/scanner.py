"""Load DuckDB's postgres/mysql scanner extensions from their PyPI wheels (offline).

``INSTALL postgres`` needs the network; the wheels ``duckdb-extension-postgres-scanner``
and ``duckdb-extension-mysql-scanner`` ship the extension binary for exactly one DuckDB
version, which we load by path (docs/decisions.md: DuckDB is pinned to 1.5.x for this).
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from cdp.engines.errors import EngineUnavailableError

if TYPE_CHECKING:
    import duckdb

__all__ = ["load_scanner"]

_PACKAGES = {
    "postgres": ("duckdb_extension_postgres_scanner", "postgres_scanner"),
    "mysql": ("duckdb_extension_mysql_scanner", "mysql_scanner"),
}


def load_scanner(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    """``LOAD`` the ``postgres`` or ``mysql`` scanner into ``con`` from its wheel."""
    import duckdb

    package, ext = _PACKAGES[kind]
    version = duckdb.__version__
    try:
        path = resources.files(package) / "extensions" / f"v{version}" / f"{ext}.duckdb_extension"
    except ModuleNotFoundError as exc:
        raise EngineUnavailableError(
            f"the DuckDB {kind} scanner is not installed",
            engine=kind,
            hint=f"pip install 'cdp[{kind}]' (it brings {package.replace('_', '-')}=={version})",
        ) from exc
    if not path.is_file():
        raise EngineUnavailableError(
            f"the installed {kind} scanner does not match DuckDB {version}",
            engine=kind,
            hint=f"pip install '{package.replace('_', '-')}=={version}'",
        )
    # a fixed path inside an installed package, not a user value
    con.execute(f"LOAD '{path}'")
