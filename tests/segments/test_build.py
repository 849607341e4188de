"""`cdp segment build` through the CLI: the --json shape, holdout, dependency order, atomicity."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.segments.conftest import AS_OF, AS_OF_LOCAL, SegWorkspace
from tests.segments.reference import in_control, spend

TWELVE_MONTHS_AGO = datetime(2025, 1, 31)

RULES = """
# test rules
metric spend_12m = sum(purchase.amount) over last 12 months
metric recency   = days_since(last purchase)

segment kiosks "Büfeler":
    purpose sms_marketing
    where business_type = "kiosk"

segment big "Big spenders":
    description "more than 10 000 TRY in 12 months"
    purpose email_marketing
    where spend_12m > 10000
    holdout 20%
"""


def _members(ws: SegWorkspace, build_id: int) -> dict[str, bool]:
    with ws.store() as con:
        rows = con.execute(
            "SELECT customer_id, control FROM segment_members WHERE build_id = ?", [build_id]
        ).fetchall()
    return dict(rows)


def test_build_json_shape_and_sizes(ws: SegWorkspace) -> None:
    ws.write_rules("test.seg", RULES)
    out = ws.cli_json("segment", "build", "--as-of", AS_OF)
    assert set(out) == {"kiosks", "big"}
    for item in out.values():
        assert {"members", "control"} <= set(item)
        assert isinstance(item["members"], int) and isinstance(item["control"], int)

    kiosks = {c["customer_id"] for c in ws.data.customers if c["business_type"] == "kiosk"}
    big = {cid for cid, s in spend(ws.data, TWELVE_MONTHS_AGO, AS_OF_LOCAL).items() if s > 10000}
    assert out["kiosks"] == {"members": len(kiosks), "control": 0, "build_id": out["kiosks"]["build_id"]}
    assert out["big"]["members"] == len(big)
    assert out["big"]["control"] == sum(in_control("big", c, 20) for c in big)

    stored = _members(ws, out["big"]["build_id"])
    assert set(stored) == big
    assert {c for c, ctl in stored.items() if ctl} == {c for c in big if in_control("big", c, 20)}


def test_build_stores_metadata(ws: SegWorkspace) -> None:
    ws.write_rules("test.seg", RULES)
    out = ws.cli_json("segment", "build", "big", "--as-of", AS_OF)
    assert set(out) == {"big"}
    with ws.store() as con:
        row = con.execute(
            "SELECT segment, as_of, purposes, holdout_pct, members, control, label, rule_hash, engine "
            "FROM segment_builds WHERE build_id = ?", [out["big"]["build_id"]]
        ).fetchone()
    assert row[0] == "big"
    assert row[1] == datetime(2026, 1, 31)  # local wall time, a bare date is 00:00
    assert row[2] == ["email_marketing"]
    assert row[3] == 20
    assert (row[4], row[5]) == (out["big"]["members"], out["big"]["control"])
    assert row[6] == "Big spenders"
    assert row[7] and row[8] == "duckdb"


def test_holdout_stable_across_rebuilds(ws: SegWorkspace) -> None:
    ws.write_rules("test.seg", RULES)
    first = ws.cli_json("segment", "build", "big", "--as-of", AS_OF)["big"]
    second = ws.cli_json("segment", "build", "big", "--as-of", AS_OF)["big"]
    assert first["build_id"] != second["build_id"]
    a, b = _members(ws, first["build_id"]), _members(ws, second["build_id"])
    assert a == b and any(a.values())


def test_rule_hash_follows_the_rule_not_the_date(ws: SegWorkspace) -> None:
    ws.write_rules("test.seg", RULES)
    a = ws.cli_json("segment", "build", "big", "--as-of", "2026-01-01")["big"]["build_id"]
    b = ws.cli_json("segment", "build", "big", "--as-of", AS_OF)["big"]["build_id"]
    ws.write_rules("test.seg", RULES.replace("> 10000", "> 20000"))
    c = ws.cli_json("segment", "build", "big", "--as-of", AS_OF)["big"]["build_id"]
    with ws.store() as con:
        hashes = dict(con.execute("SELECT build_id, rule_hash FROM segment_builds").fetchall())
    assert hashes[a] == hashes[b] != hashes[c]


DEPENDENT = """
metric spend_12m = sum(purchase.amount) over last 12 months

# gold is written before the segment it depends on
segment gold:
    where spend_12m > 5000 and not in segment platinum

segment platinum:
    where spend_12m > 20000
    holdout 50%
"""


def test_dependency_order_and_control_counts_as_member(ws: SegWorkspace) -> None:
    ws.write_rules("tiers.seg", DEPENDENT)
    out = ws.cli_json("segment", "build", "--as-of", AS_OF)
    assert list(out) == ["platinum", "gold"]
    s = spend(ws.data, TWELVE_MONTHS_AGO, AS_OF_LOCAL)
    platinum = {c for c, v in s.items() if v > 20000}
    gold = {c for c, v in s.items() if v > 5000} - platinum
    assert platinum and gold
    assert set(_members(ws, out["platinum"]["build_id"])) == platinum
    # platinum's control group counts as platinum: none of it reaches gold
    assert set(_members(ws, out["gold"]["build_id"])) == gold


def test_building_one_segment_computes_but_does_not_store_its_dependencies(ws: SegWorkspace) -> None:
    ws.write_rules("tiers.seg", DEPENDENT)
    out = ws.cli_json("segment", "build", "gold", "--as-of", AS_OF)
    assert list(out) == ["gold"]
    s = spend(ws.data, TWELVE_MONTHS_AGO, AS_OF_LOCAL)
    assert out["gold"]["members"] == sum(1 for v in s.values() if 5000 < v <= 20000)
    with ws.store() as con:
        assert con.execute("SELECT DISTINCT segment FROM segment_builds").fetchall() == [("gold",)]


def test_unknown_segment_and_engine_are_clear_errors(ws: SegWorkspace) -> None:
    ws.write_rules("test.seg", RULES)
    from cdp.errors import CDPError, NotFoundError
    from cdp.workspace import Workspace

    result = ws.cli("segment", "build", "bigg", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "did you mean 'big'" in result.stderr
    with pytest.raises(NotFoundError) as info:
        Workspace(ws.root).segments.build(["bigg"], as_of=AS_OF)
    assert (info.value.kind, info.value.suggestion) == ("segment", "big")

    result = ws.cli("segment", "build", "--engine", "oracle")
    assert result.exit_code == 1 and "engine" in result.stderr
    with pytest.raises(CDPError):
        Workspace(ws.root).segments.build(engine="oracle")
    with ws.store() as con:
        assert con.execute("SELECT count(*) FROM segment_builds").fetchone()[0] == 0


def test_failure_mid_build_leaves_no_partial_build(ws: SegWorkspace) -> None:
    """The second segment fails at run time (BIGINT overflow): nothing of the run is stored."""
    ws.write_rules("test.seg", RULES + """
segment broken:
    where count(purchase) * 9223372036854775807 * 9223372036854775807 > 1
""")
    result = ws.cli("segment", "build", "--as-of", AS_OF)
    assert result.exit_code == 1, result.output
    with ws.store() as con:
        assert con.execute("SELECT count(*) FROM segment_builds").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM segment_members").fetchone()[0] == 0
    # and the store is usable afterwards
    ws.write_rules("test.seg", RULES)
    out = ws.cli_json("segment", "build", "--as-of", AS_OF)
    assert set(out) == {"kiosks", "big"}


def test_retention_keeps_the_newest_builds(make_workspace: object) -> None:
    ws = make_workspace(config="[rules]\nkeep_builds = 2\n")  # type: ignore[operator]
    ws.write_rules("test.seg", RULES)
    ids = [ws.cli_json("segment", "build", "kiosks", "--as-of", d)["kiosks"]["build_id"]
           for d in ("2025-11-30", "2025-12-31", AS_OF)]
    with ws.store() as con:
        kept = [r[0] for r in con.execute("SELECT build_id FROM segment_builds ORDER BY 1").fetchall()]
        orphans = con.execute(
            "SELECT count(*) FROM segment_members WHERE build_id NOT IN (SELECT build_id FROM segment_builds)"
        ).fetchone()[0]
    assert kept == ids[1:]
    assert orphans == 0


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday-ish"])
def test_bad_as_of_is_a_clear_error(ws: SegWorkspace, bad: str) -> None:
    ws.write_rules("test.seg", RULES)
    result = ws.cli("segment", "build", "--as-of", bad)
    assert result.exit_code == 1
    assert "--as-of" in result.stderr
