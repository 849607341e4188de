"""Golden SQL: rule text -> SQL per dialect; each output parses back in sqlglot.

Regenerate after a reviewed change with ``CDP_UPDATE_GOLDEN=1 pytest tests/dsl/test_golden.py``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import sqlglot

import dsl
from tests.dsl.conftest import make_catalog

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
RULES = HERE / "golden_rules.seg"
DIALECTS = ("duckdb", "postgres", "spark")
UPDATE = os.environ.get("CDP_UPDATE_GOLDEN") == "1"


def _checked() -> dsl.CheckedProgram:
    return dsl.check(dsl.load([RULES]), make_catalog())


def _names() -> list[str]:
    return [d.name for d in dsl.load([RULES]).definitions if type(d).__name__ == "Segment"]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", _names())
def test_golden_sql(name: str, dialect: str) -> None:
    opts = dsl.CompileOptions(
        as_of=dt.datetime(2026, 3, 31), as_of_utc=dt.datetime(2026, 3, 30, 21), timezone="Europe/Istanbul", dialect=dialect
    )
    seg = dsl.compile_segment(_checked(), name, opts)
    text = f"-- title: segment {name} ({dialect}), as_of 2026-03-31\n" + seg.sql(dialect, pretty=True) + "\n"
    path = GOLDEN / f"{name}.{dialect}.sql"
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
    parsed = sqlglot.parse_one(seg.sql(dialect), read=dialect)
    assert parsed.find(sqlglot.exp.Select) is not None


def test_round_trip_of_golden_rules() -> None:
    prog = dsl.load([RULES])
    assert dsl.loads(dsl.format_program(prog)) == prog
    assert dsl.format_program(dsl.loads(dsl.format_program(prog))) == dsl.format_program(prog)
