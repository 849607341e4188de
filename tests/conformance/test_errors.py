"""Errors of DSL.md: file:line:col with the line and a caret, did-you-mean, type errors before
any SQL, include cycles, duplicate names naming both places. Through `cdp segment check FILE`
(and `cdp segment build` for a bad file under segments/).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import Ws, customer, make_workspace, stderr_of

CUSTOMERS = [customer("E1", city="İstanbul", credit=5), customer("E2", city="Ankara", credit=9)]
EVENTS = [{"code": "E1", "ts": "2026-01-10 10:00:00", "amount": 10, "category": "food"}]

# name: ({file: text}, file checked, (file, line, col) of the error, fragments of the message)
CASES: dict[str, tuple[dict[str, str], str, tuple[str, int, int | None], list[str]]] = {
    "syntax": ({"a.seg": "segment s where credit >= 5 and\n  city ==  \"x\"\n"}, "a.seg",
               ("a.seg", 2, 9), ["expected"]),
    "syntax_value_missing": ({"a.seg": "segment s where credit >= \nsegment t where credit > 1\n"},
                             "a.seg", ("a.seg", 2, 1), ["expected"]),
    "unknown_metric": ({"a.seg": "metric spend_12m = sum(purchase.amount) over last 12 months\n"
                                 "segment s where spend12m > 0\n"}, "a.seg",
                       ("a.seg", 2, 17), ["spend12m", "did you mean 'spend_12m'"]),
    "unknown_trait": ({"a.seg": "segment s where ciity = \"x\"\n"}, "a.seg",
                      ("a.seg", 1, 17), ["ciity", "city"]),
    "names_case_sensitive": ({"a.seg": "metric Spend = sum(purchase.amount)\n"
                                       "segment s where spend > 0\n"}, "a.seg",
                             ("a.seg", 2, 17), ["spend", "Spend"]),
    "unknown_segment": ({"a.seg": "segment platinum where credit > 5\n"
                                  "segment s where not in segment platinium\n"}, "a.seg",
                        ("a.seg", 2, None), ["platinium", "platinum"]),
    "unknown_rfm": ({"a.seg": "segment s where rfm.scor = \"555\"\n"}, "a.seg",
                    ("a.seg", 1, None), ["rfm.scor", "did you mean"]),
    "unknown_event_type": ({"a.seg": "segment s where count(purchse) > 0\n"}, "a.seg",
                           ("a.seg", 1, 23), ["purchse", "did you mean 'purchase'"]),
    "unknown_property": ({"a.seg": "segment s where sum(purchase.amout) > 0\n"}, "a.seg",
                         ("a.seg", 1, None), ["amout", "did you mean 'amount'"]),
    "unknown_purpose_clause": ({"a.seg": "segment s purpose email_marketting where credit > 0\n"},
                               "a.seg", ("a.seg", 1, 19), ["email_marketting", "email_marketing"]),
    "unknown_property_inner_where": ({"a.seg": "segment s where count(purchase where categry = "
                                               "\"food\") > 0\n"}, "a.seg", ("a.seg", 1, None),
                                     ["categry", "did you mean 'category'"]),
    "unknown_purpose_consented": ({"a.seg": "segment s where consented to email_marketting\n"},
                                  "a.seg", ("a.seg", 1, 30), ["email_marketting",
                                                              "did you mean 'email_marketing'"]),
    "unknown_channel": ({"a.seg": "segment s where consented to email_marketing via fax\n"},
                        "a.seg", ("a.seg", 1, 50), ["fax"]),
    "unknown_constant_in_let_use": ({"a.seg": "let vip_spend = 50_000\n"
                                              "segment s where credit > vip_spnd\n"}, "a.seg",
                                    ("a.seg", 2, 26), ["vip_spnd", "did you mean 'vip_spend'"]),
    "include_missing": ({"a.seg": "include \"nowhere.seg\"\nsegment s where credit > 0\n"},
                        "a.seg", ("a.seg", 1, None), ["nowhere.seg"]),
    "top_150": ({"a.seg": "segment s where credit in top 150%\n"}, "a.seg", ("a.seg", 1, None),
                ["150"]),
    "string_vs_number": ({"a.seg": "segment s where credit > \"abc\"\n"}, "a.seg",
                         ("a.seg", 1, 17), []),
    "number_vs_string": ({"a.seg": "segment s where city = 12\n"}, "a.seg", ("a.seg", 1, 17), []),
    "probability_on_kmeans": ({"a.seg": "model m = kmeans(credit) k 2\n"
                                        "segment s where probability(m, \"A\") > 0.5\n"}, "a.seg",
                              ("a.seg", 2, 17), ["probability", "kmeans"]),
    "holdout_150": ({"a.seg": "segment s where credit > 0 holdout 150%\n"}, "a.seg",
                    ("a.seg", 1, 36), ["150"]),
    "untrained_model": ({"a.seg": "model m = kmeans(credit) k 2\n"
                                  "segment s where cluster(m) = \"A\"\n"}, "a.seg",
                        ("a.seg", 2, 17), ["cdp model train"]),
    "inner_where_trait": ({"a.seg": "segment s where count(purchase where city = \"x\") > 0\n"},
                          "a.seg", ("a.seg", 1, None), ["city"]),
    "clause_twice": ({"a.seg": "segment s where credit > 0\n  where credit < 5\n"}, "a.seg",
                     ("a.seg", 2, None), ["where"]),
    "where_missing": ({"a.seg": "segment s purpose email_marketing\n"}, "a.seg",
                      ("a.seg", 1, None), ["where"]),
    "segment_cycle": ({"a.seg": "segment x where in segment y\nsegment y where in segment x\n"},
                      "a.seg", ("a.seg", 2, None), ["cycle"]),
    "include_cycle": ({"a.seg": "include \"sub/b.seg\"\nsegment s where credit > 0\n",
                       "sub/b.seg": "include \"../a.seg\"\nlet x = 1\n"}, "a.seg",
                      ("b.seg", 1, 9), ["cycle"]),
    "duplicate_across_files": ({"a.seg": "include \"b.seg\"\n\nsegment dup where credit > 0\n",
                                "b.seg": "let y = 2\nsegment dup where credit > 1\n"}, "a.seg",
                               ("a.seg", 3, 9), ["dup", "b.seg:2"]),
}

XFAIL: dict[str, str] = {}

LOCATION = re.compile(r"([\w./-]+\.seg):(\d+):(\d+)")


@pytest.fixture(scope="module")
def ws(module_dir: Path) -> Ws:
    return make_workspace(module_dir / "ws", CUSTOMERS, EVENTS)


def _assert_caret(output: str, source: str, file: str, line: int, col: int | None) -> None:
    """`file:line:col` is named, the line is shown, and a caret sits under the column."""
    locs = [(f, int(ln), int(c)) for f, ln, c in LOCATION.findall(output)]
    hits = [(f, ln, c) for f, ln, c in locs if f.endswith(file) and ln == line]
    assert hits, f"no {file}:{line}:col in:\n{output}"
    if col is None:
        col = hits[0][2]
    assert any(c == col for _, _, c in hits), f"want {file}:{line}:{col} in:\n{output}"
    text = source.splitlines()[line - 1].rstrip()
    lines = output.splitlines()
    for i, shown in enumerate(lines[:-1]):
        if text.strip() and shown.rstrip().endswith(text) and "^" in lines[i + 1]:
            prefix = len(shown.rstrip()) - len(text)
            assert lines[i + 1].index("^") - prefix + 1 == col, f"caret not at {col}:\n{output}"
            return
    raise AssertionError(f"line {line} not shown with a caret:\n{output}")


@pytest.mark.parametrize("case", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=XFAIL[c])) if c in XFAIL else c
    for c in sorted(CASES)])
def test_check_reports_location(ws: Ws, case: str) -> None:
    files, main, (file, line, col), fragments = CASES[case]
    base = ws.root / "cases" / case
    for name, text in files.items():
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(text, encoding="utf-8")
    res = ws.cli("segment", "check", str(base / main))
    out = stderr_of(res)
    assert res.exit_code == 1, out
    assert "Traceback" not in out
    source = (base / next(n for n in files if n.endswith(file))).read_text("utf-8")
    _assert_caret(out, source, file, line, col)
    for fragment in fragments:
        assert fragment in out, f"{fragment!r} not in:\n{out}"


def test_build_with_a_bad_file_fails_before_sql(ws: Ws) -> None:
    bad = ws.root / "segments" / "bad.seg"
    bad.write_text("segment ok where credit > 0\nsegment s where credit > \"abc\"\n", "utf-8")
    try:
        res = ws.cli("segment", "build", "--as-of", "2026-03-31", "--json")
        out = stderr_of(res)
        assert res.exit_code == 1
        assert re.search(r"bad\.seg:2:17", out), out
        assert "Traceback" not in out
        assert ws.query("SELECT count(*) FROM segment_builds")[0][0] == 0
    finally:
        bad.unlink()


def test_check_json_lists_errors(ws: Ws) -> None:
    base = ws.root / "cases" / "json"
    base.mkdir(parents=True, exist_ok=True)
    (base / "a.seg").write_text("segment s where ciity = \"x\"\n", "utf-8")
    res = ws.cli("segment", "check", "--json", str(base / "a.seg"))
    assert res.exit_code == 1
    assert '"line": 1' in res.stdout and '"col": 17' in res.stdout


TOKENS = ["segment", "metric", "let", "include", "where", "purpose", "holdout", "description",
          "s", "t", "credit", "city", "spend", "=", ">=", "<", "!=", "(", ")", ",", ":", "%",
          "and", "or", "not", "in", "top", "between", "is", "null", "contains", "icontains",
          "count(purchase)", "sum(purchase.amount)", "over", "last", "3", "days", "-", "+",
          "*", "/", "12.5", "50_000", "2026-01-31", '"İstanbul"', '"', "#", "\n", "rfm.r",
          "days_since(last purchase)", "consented to", "email_marketing", "via", "segment s where"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14))
def test_check_never_crashes_and_always_locates(ws: Ws, tokens: list[str]) -> None:
    """Whatever a user types, `cdp segment check` exits 0 or 1 (never a traceback), and an
    error always names file:line:col."""
    case = ws.root / "cases" / "fuzz.seg"
    case.parent.mkdir(exist_ok=True)
    case.write_text(" ".join(tokens) + "\n", "utf-8")
    res = ws.cli("segment", "check", str(case))
    assert res.exit_code in (0, 1)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    if res.exit_code == 1:
        assert LOCATION.search(stderr_of(res)), stderr_of(res)
