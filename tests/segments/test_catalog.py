"""What rules see of the workspace: store columns, cdp.toml declarations, purposes, RFM settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from tests.segments.conftest import AS_OF, SegWorkspace

CRM = """
[sources.crm]
kind = "csv"
entity = "customers"
path = "crm.csv"
key = "ref"
traits = { city = "text", loyalty_tier = "text" }
"""


def test_declared_but_not_ingested_trait_checks_but_does_not_build(
    make_workspace: Callable[..., SegWorkspace],
) -> None:
    ws = make_workspace(config=CRM)
    ws.write_rules("t.seg", 'segment tier_a:\n    where loyalty_tier = "A"\n')
    assert ws.cli("segment", "check").exit_code == 0
    result = ws.cli("segment", "build", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "t.seg:2:11" in result.stderr and "cdp ingest" in result.stderr


def test_data_purposes_limit_what_a_segment_may_use(make_workspace: Callable[..., SegWorkspace]) -> None:
    ws = make_workspace(config='[privacy.data_purposes]\ncity = ["analytics"]\n"events.category" = ["analytics"]\n')
    ist = 'segment ist "İstanbul":\n    purpose email_marketing\n    where city icontains "istanbul"\n\n'
    ok = 'segment ok:\n    purpose analytics\n    where city icontains "istanbul"\n\n'
    bev = ('segment bev:\n    purpose sms_marketing\n'
           '    where count(purchase where category = "beverages") over last 6 months >= 1\n')
    import json

    for text, name in ((ist + ok, "city"), (ok + bev, "category")):
        ws.write_rules("t.seg", text)
        result = ws.cli("segment", "check", "--json")
        assert result.exit_code == 1
        errors = json.loads(result.stdout)["errors"]
        assert [e["name"] for e in errors] == [name]
        assert errors[0]["file"].endswith("t.seg")
    ws.write_rules("t.seg", ok)
    assert ws.cli("segment", "check").exit_code == 0


def test_declared_purposes_are_known(make_workspace: Callable[..., SegWorkspace]) -> None:
    rule = 'segment loyal_club:\n    purpose loyalty_programme\n    where count(purchase) >= 1\n'
    ws = make_workspace()
    ws.write_rules("t.seg", rule)
    result = ws.cli("segment", "check")
    assert result.exit_code == 1 and "loyalty_programme" in result.stderr
    ws = make_workspace(config='[privacy.purposes.loyalty_programme]\ndescription = "Kulüp"\n')
    ws.write_rules("t.seg", rule)
    assert ws.cli("segment", "check").exit_code == 0


def test_event_types_come_from_the_store_and_the_config(make_workspace: Callable[..., SegWorkspace]) -> None:
    rule = 'segment refunders:\n    where count(refund) over last 90 days >= 1\n'
    ws = make_workspace()
    ws.write_rules("t.seg", rule)
    result = ws.cli("segment", "check")
    assert result.exit_code == 1 and "refund" in result.stderr
    ws = make_workspace(config='[rules]\nevent_types = ["refund"]\n')
    ws.write_rules("t.seg", rule)
    assert ws.cli("segment", "check").exit_code == 0
    assert ws.cli_json("segment", "build", "--as-of", AS_OF)["refunders"]["members"] == 0


def test_rfm_window_from_config(make_workspace: Callable[..., SegWorkspace]) -> None:
    ws = make_workspace(config='[rules.rfm]\nwindow = "1 month"\n')
    ws.write_rules("t.seg", "segment scored:\n    where rfm.r is not null\n")
    out = ws.cli_json("segment", "build", "--as-of", AS_OF)
    buyers = {e["customer_id"] for e in ws.data.events
              if e["event_type"] == "purchase" and datetime(2025, 12, 31) <= e["ts"] < datetime(2026, 1, 31)}
    assert out["scored"]["members"] == len(buyers)


def test_public_surface() -> None:
    import cdp.segments

    assert sorted(cdp.segments.__all__) == ["AsOf", "SegmentService", "parse_as_of"]
    from cdp.segments import SegmentService  # lazily imported

    assert SegmentService.__name__ == "SegmentService"


def test_event_properties_are_columns_or_json_keys(make_workspace: Callable[..., SegWorkspace]) -> None:
    """A property that is neither an events column nor a key of the JSON properties is unknown."""
    import json

    ws = make_workspace()
    ws.write_rules("t.seg", "segment s:\n    where sum(purchase.amout) > 0\n")
    result = ws.cli("segment", "check", "--json")
    assert result.exit_code == 1
    [error] = json.loads(result.stdout)["errors"]
    assert (error["name"], error["line"], error["col"]) == ("amout", 2, 24)
    assert error.get("suggestion") == "amount" or "did you mean 'amount'" in json.dumps(error)
    with ws.store() as con:
        con.execute("UPDATE events SET properties = '{\"coupon\": \"A\"}' WHERE event_id IN "
                    "(SELECT event_id FROM events WHERE event_type = 'purchase' AND category IS NOT NULL "
                    "AND ts < CAST(? AS DATE) ORDER BY event_id LIMIT 3)", [AS_OF])
    ws.write_rules("t.seg", 'segment s:\n    where count(purchase where copon = "A") > 0\n')
    result = ws.cli("segment", "check")
    assert result.exit_code == 1 and "did you mean 'coupon'" in result.stderr
    ws.write_rules("t.seg", 'segment s:\n    where count(purchase where coupon = "A" and category is not null) > 0\n')
    assert ws.cli("segment", "check").exit_code == 0
    out = ws.cli_json("segment", "build", "--as-of", AS_OF)
    assert out["s"]["members"] >= 1
