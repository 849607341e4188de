"""The rules of rules/windows.seg and rules/ranking*.seg give the same members on PostgreSQL
(ARCHITECTURE.md: the same AST compiles to Postgres): `cdp engine push postgres`, then `segment
build --engine postgres`, compared with the hand-computed answers of test_windows_aggregates
and test_ranking.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import test_ranking as ranking
from . import test_windows_aggregates as windows
from .conftest import Ws, make_workspace

SCENARIOS = {
    "windows": (windows.CUSTOMERS, windows.EVENTS, ["windows.seg"], windows.EXPECTED),
    "ranking": (ranking.CUSTOMERS, ranking.EVENTS, ["ranking.seg", "ranking_every_n.seg"],
                {**ranking.EXPECTED,
                 **{f"top_{n}": ranking.t(*range(101 - n, 101)) for n in ranking.FLOAT_TRAPS},
                 **{f"bottom_{n}": ranking.t(*range(1, n + 1)) for n in ranking.FLOAT_TRAPS}}),
}
AS_OF = windows.AS_OF
RULES = windows.RULES

pytestmark = pytest.mark.postgres
DSN = "host=127.0.0.1 dbname=test user=postgres"


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def scenario(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def ws(module_dir: Path, scenario: str) -> Iterator[Ws]:
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect(DSN, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - no server: skip, saying why
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    schema = f"conformance_{scenario}_{os.getpid()}"
    customers, events, files, _ = SCENARIOS[scenario]
    w = make_workspace(module_dir / scenario, customers, events,
                       segments={f: (RULES / f).read_text("utf-8") for f in files})
    w.extra_env["CDP_PG_DSN"] = DSN
    with (w.root / "cdp.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'\n[engines.postgres]\nschema = "{schema}"\n')
    try:
        w.ok("engine", "push", "postgres", "--json")
        yield w
    finally:
        with psycopg.connect(DSN, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def built(ws: Ws) -> dict[str, set[str]]:
    return ws.build(AS_OF, engine="postgres")


def test_postgres_members(built: dict[str, set[str]], scenario: str) -> None:
    expected = SCENARIOS[scenario][3]
    wrong = {name: (sorted(built.get(name, set()) ^ members))
             for name, members in expected.items() if built.get(name) != members}
    assert not wrong, f"segment -> customers that differ from the hand answer: {wrong}"
