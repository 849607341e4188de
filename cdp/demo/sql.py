"""Deterministic pseudo-randomness in DuckDB SQL, shared by the demo's table builders.

Every random value is a hash of (seed, row number, salt), so a row's values do not depend on
thread scheduling or on the other rows: the same seed writes the same files byte for byte,
at any scale, in one vectorized pass (no Python loop per row).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb

__all__ = ["expand_weighted", "install_macros", "sql_list", "sql_str"]


def sql_str(value: str) -> str:
    """A SQL string literal of one of our own constants."""
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: Iterable[object]) -> str:
    """A SQL list literal of our own constants (strings, ints or floats)."""
    parts = [sql_str(v) if isinstance(v, str) else repr(v) for v in values]
    return "[" + ", ".join(parts) + "]"


def expand_weighted(items: Sequence[tuple[object, int]]) -> list[object]:
    """Repeat each item by its integer weight, so a uniform index picks by weight."""
    out: list[object] = []
    for item, weight in items:
        out.extend([item] * int(weight))
    return out


def install_macros(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    """Create ``u(k, salt)`` (uniform in [0, 1)), ``nrm(k, salt)`` (standard normal) and ``pick``."""
    # DuckDB's multi-argument hash() combines its arguments weakly (outputs for two salts are
    # correlated), so the row hash, the salt hash and the seed are xor-ed and hashed again.
    mix = (int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % (1 << 64)
    con.execute(
        f"CREATE OR REPLACE MACRO u(k, salt) AS "
        f"((hash(xor(xor(hash(k), hash(salt)), {mix}::UBIGINT)) >> 11)::DOUBLE / 9007199254740992.0)"
    )
    # Box-Muller from two independent uniforms
    con.execute(
        "CREATE OR REPLACE MACRO nrm(k, salt) AS "
        "(sqrt(-2.0 * ln(1.0 - u(k, salt || ':a'))) * cos(2.0 * pi() * u(k, salt || ':b')))"
    )
    # pick(list, x): the element at the uniform position x in [0, 1)
    con.execute("CREATE OR REPLACE MACRO pick(lst, x) AS lst[1 + floor(x * len(lst))::BIGINT]")
    # Turkish letters to ASCII (for e-mail local parts and "typed without Turkish keyboard" names)
    con.execute(
        "CREATE OR REPLACE MACRO ascii_tr(s) AS translate(s, 'çğıöşüÇĞİIÖŞÜâîû', 'cgiosuCGIIOSUaiu')"
    )
    # Turkish-aware upper case (i -> İ, ı -> I), as a Turkish keyboard types it
    con.execute("CREATE OR REPLACE MACRO upper_tr(s) AS upper(translate(s, 'iı', 'İI'))")
