"""check (errors with locations), explain (SQL + funnel) and preview (values that qualified)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.segments.conftest import AS_OF, AS_OF_LOCAL, SegWorkspace
from tests.segments.reference import spend

GOOD = """
metric spend_12m = sum(purchase.amount) over last 12 months
metric orders_12m = count(purchase) over last 12 months

segment big:
    purpose email_marketing
    where spend_12m > 10000 and orders_12m >= 2
    holdout 10%
"""

BAD = """# spend_12m comes from good.seg (one namespace)

segment typo:
    where spend12m > 100
"""


def test_check_ok(ws: SegWorkspace) -> None:
    ws.write_rules("good.seg", GOOD)
    result = ws.cli("segment", "check")
    assert result.exit_code == 0, result.output
    assert "1 segment" in result.stdout


def test_check_prints_every_error_with_location_and_caret(ws: SegWorkspace) -> None:
    ws.write_rules("good.seg", GOOD)
    ws.write_rules("bad.seg", BAD + "\nsegment other:\n    where city = 3 and nope > 1\n")
    result = ws.cli("segment", "check")
    assert result.exit_code == 1
    assert "bad.seg:4:11" in result.stderr
    assert "spend_12m" in result.stderr  # the did-you-mean
    assert "^" in result.stderr

    report = ws.cli("segment", "check", "--json")
    assert report.exit_code == 1
    errors = json.loads(report.stdout)["errors"]
    assert len(errors) >= 2
    first = errors[0]
    assert (first["file"].endswith("bad.seg"), first["line"], first["col"]) == (True, 4, 11)
    assert first["suggestion"] == "spend_12m"


def test_check_syntax_error_and_explicit_files(ws: SegWorkspace) -> None:
    ws.write_rules("good.seg", GOOD)
    path = ws.root / "draft.seg"
    path.write_text("segment x:\n    where spend_12m >\n", encoding="utf-8")
    result = ws.cli("segment", "check", str(path))
    assert result.exit_code == 1
    assert "draft.seg:" in result.stderr
    assert ws.cli("segment", "check", str(ws.segments_dir / "good.seg")).exit_code == 0


def test_check_command_is_fast(ws: SegWorkspace) -> None:
    """The whole `cdp segment check` process under 1 s of CPU (wall time is noisy on a shared box)."""
    import resource
    import subprocess
    import sys
    from pathlib import Path

    ws.write_rules("good.seg", GOOD)
    cdp = Path(sys.executable).parent / "cdp"
    subprocess.run([str(cdp), "segment", "check"], check=True, capture_output=True)  # warm caches
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([str(cdp), "segment", "check"], check=False, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stderr
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 1.0


def _expected(ws: SegWorkspace) -> set[str]:
    s = spend(ws.data, datetime(2025, 1, 31), AS_OF_LOCAL)
    orders: dict[str, int] = {}
    for e in ws.data.events:
        if e["event_type"] == "purchase" and datetime(2025, 1, 31) <= e["ts"] < AS_OF_LOCAL:
            orders[e["customer_id"]] = orders.get(e["customer_id"], 0) + 1
    return {c for c, v in s.items() if v > 10000 and orders.get(c, 0) >= 2}


def test_preview_size_share_and_values(ws: SegWorkspace) -> None:
    ws.write_rules("good.seg", GOOD)
    out = ws.cli_json("segment", "preview", "big", "--as-of", AS_OF)
    expected = _expected(ws)
    assert out["size"] == len(expected)
    assert out["customers"] == len(ws.data.customers)
    assert out["share"] == pytest.approx(len(expected) / len(ws.data.customers))
    assert 0 < len(out["sample"]) <= 10
    s = spend(ws.data, datetime(2025, 1, 31), AS_OF_LOCAL)
    for row in out["sample"]:
        assert row["customer_id"] in expected
        assert float(row["spend_12m"]) == pytest.approx(s[row["customer_id"]], abs=0.01)
    # nothing stored
    with ws.store() as con:
        assert con.execute("SELECT count(*) FROM segment_builds").fetchone()[0] == 0
    assert ws.cli("segment", "preview", "big", "--as-of", AS_OF).exit_code == 0


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
def test_explain_sql_and_funnel(ws: SegWorkspace, dialect: str) -> None:
    ws.write_rules("good.seg", GOOD)
    out = ws.cli_json("segment", "explain", "big", "--as-of", AS_OF, "--dialect", dialect)
    assert "select" in out["sql"].lower()
    counts = [step["customers"] for step in out["funnel"]]
    assert counts == sorted(counts, reverse=True)  # cumulative: never grows
    assert counts[-1] == len(_expected(ws))
    result = ws.cli("segment", "explain", "big", "--as-of", AS_OF, "--dialect", dialect)
    assert result.exit_code == 0


def test_unknown_dialect(ws: SegWorkspace) -> None:
    ws.write_rules("good.seg", GOOD)
    assert ws.cli("segment", "explain", "big", "--dialect", "oracle").exit_code == 1
