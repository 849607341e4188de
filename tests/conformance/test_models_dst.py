"""A kmeans model named by its centroids' spend, trained by `cdp model train` and used with
`cluster(MODEL) = "Name"`; `over last 1 day` across the 2026-03-29 daylight-saving change in a
workspace on Europe/Berlin; string escapes. Rules: rules/models_dst.seg.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Ws, customer, email_of, make_workspace, stderr_of

RULES = Path(__file__).parent / "rules"
HIGH = {f"M{i}" for i in range(1, 5)}
LOW = {f"M{i}" for i in range(5, 13)}
CUSTOMERS = [customer(c, city="Köy \"Merkez\" \\ Şube" if c == "M1" else "Berlin")
             for c in sorted(HIGH | LOW, key=lambda c: int(c[1:]))]
EVENTS = (
    [{"code": c, "ts": f"2026-02-0{j + 1} 12:00:00", "amount": 10_000 + 100 * j}
     for c in sorted(HIGH) for j in range(5)]
    + [{"code": c, "ts": "2026-02-10 12:00:00", "amount": 20} for c in sorted(LOW)]
    # as_of 2026-03-30 00:00 CEST; the day before is 2026-03-29, 23 hours long (CET -> CEST).
    + [{"code": "M5", "ts": "2026-03-29 00:30:00", "amount": 1},   # inside [03-29 00:00, 03-30 00:00)
       {"code": "M6", "ts": "2026-03-28 23:30:00", "amount": 1}]   # the day before: outside
)


@pytest.fixture(scope="module")
def ws(module_dir: Path) -> Ws:
    w = make_workspace(module_dir / "ws", CUSTOMERS, EVENTS, tz="Europe/Berlin",
                       segments={"m.seg": (RULES / "models_dst.seg").read_text("utf-8")})
    w.ok("model", "train", "--as-of", "2026-03-01")
    return w


@pytest.fixture(scope="module")
def built(ws: Ws) -> dict[str, set[str]]:
    return ws.build("2026-03-30")


def test_cluster_names_follow_the_names_by_clause(built: dict[str, set[str]]) -> None:
    assert built["high"] == HIGH
    assert built["low"] == LOW


def test_day_window_is_a_local_calendar_day_across_dst(built: dict[str, set[str]]) -> None:
    assert built["day_before"] == {"M5"}


def test_days_since_counts_local_calendar_days_across_dst(built: dict[str, set[str]]) -> None:
    assert built["ds_1"] == {"M5"}
    assert built["ds_2"] == {"M6"}


def test_string_escapes(built: dict[str, set[str]]) -> None:
    assert built["quote"] == {"M1"}


def test_model_is_stored_as_json(ws: Ws) -> None:
    rows = ws.query("SELECT algorithm, params::VARCHAR FROM models WHERE name = 'value'")
    assert rows and rows[0][0] == "kmeans"
    assert rows[0][1].lstrip().startswith("{")


def test_a_cluster_name_the_model_does_not_have_is_an_error(ws: Ws) -> None:
    case = ws.root / "cases" / "names.seg"
    case.parent.mkdir(exist_ok=True)
    case.write_text('include "../segments/m.seg"\n'
                    'segment bad where cluster(value) = "Orta"\n', "utf-8")
    res = ws.cli("segment", "check", str(case))
    out = stderr_of(res)
    assert res.exit_code == 1, out
    assert "names.seg:2:" in out and "Orta" in out


def test_profiling_objection_keeps_the_person_out_of_model_segments(ws: Ws) -> None:
    """PRIVACY.md §3: an objection to profiling keeps the person out of any segment that uses a
    model; segments without a model are unaffected. Runs last: it changes the workspace."""
    ws.ok("consent", "object", "--email", email_of("M2"), "--scope", "profiling",
          "--at", "2026-03-01T10:00:00")
    got = ws.build("2026-03-30", "high", "quote", "day_before")
    assert got["high"] == HIGH - {"M2"}
    assert got["day_before"] == {"M5"}
