"""Parsing, printing and syntax errors (DSL.md "Lexical rules", "Errors")."""

from __future__ import annotations

import datetime as dt
import time
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsl
from cdp.errors import Location, RuleError, RuleSyntaxError
from dsl import ast
from tests.dsl.conftest import make_catalog


def _seg(prog: dsl.Program, name: str) -> ast.Segment:
    return next(d for d in prog.definitions if isinstance(d, ast.Segment) and d.name == name)


def test_spec_example_parses_and_prints_back() -> None:
    text = (Path(__file__).parent / "golden_rules.seg").read_text(encoding="utf-8")
    prog = dsl.loads(text, file="x.seg")
    printed = dsl.format_program(prog)
    assert dsl.loads(printed) == prog
    gold = _seg(prog, "gold")
    assert gold.label == "Altın" and gold.purposes == ("email_marketing",) and gold.holdout == Decimal(10)


def test_keywords_case_insensitive_names_case_sensitive() -> None:
    a = dsl.loads('SEGMENT Gold: WHERE Spend IN TOP 5% AND City IContains "x"')
    b = dsl.loads('segment Gold: where Spend in top 5% and City icontains "x"')
    assert a == b
    assert _seg(a, "Gold").where.left.value == ast.Name("Spend")  # type: ignore[union-attr]


def test_lexical_forms() -> None:
    prog = dsl.loads('let a = 50_000\nlet b = -100\nlet c = 12.5\nlet d = 2026-01-31\nlet e = true\nlet f = null\n'
                     'let g = "q\\"\\\\\\n"')
    values = {d.name: d.value for d in prog.definitions}  # type: ignore[union-attr]
    assert values["a"] == ast.Number(Decimal(50000))
    assert values["b"] == ast.Number(Decimal(-100))
    assert values["c"] == ast.Number(Decimal("12.5"))
    assert values["d"] == ast.DateLit(dt.date(2026, 1, 31))
    assert values["e"] == ast.Bool(True) and values["f"] == ast.Null()
    assert values["g"] == ast.String('q"\\\n')


def test_strings_are_nfc_normalized() -> None:
    composed = dsl.loads('let x = "İstanbul"')
    decomposed = dsl.loads('let x = "' + unicodedata.normalize("NFD", "İstanbul") + '"')
    assert composed == decomposed
    assert dsl.format_program(composed) == 'let x = "İstanbul"\n'


def test_precedence() -> None:
    w = _seg(dsl.loads("segment s: where a = 1 or b = 2 and not c = 3"), "s").where
    assert isinstance(w, ast.Or) and isinstance(w.right, ast.And) and isinstance(w.right.right, ast.Not)
    v = _seg(dsl.loads("segment s: where -a + b * c > 1 - 2 - 3"), "s").where
    assert isinstance(v, ast.Compare)
    assert v.left == ast.BinOp("+", ast.Neg(ast.Name("a")), ast.BinOp("*", ast.Name("b"), ast.Name("c")))
    assert v.right == ast.BinOp("-", ast.BinOp("-", ast.Number(Decimal(1)), ast.Number(Decimal(2))), ast.Number(Decimal(3)))


def test_between_and_window_are_unambiguous() -> None:
    text = "segment s: where sum(purchase.amount) from 2026-01-01 to 2026-03-31 between 1000 and 5000 and x = 1"
    w = _seg(dsl.loads(text), "s").where
    assert isinstance(w, ast.And) and isinstance(w.left, ast.Between)
    agg = w.left.value
    assert isinstance(agg, ast.Aggregate) and agg.window == ast.DateRange(dt.date(2026, 1, 1), dt.date(2026, 3, 31))


def test_definition_ends_at_next_keyword_and_comments() -> None:
    prog = dsl.loads("segment a # comment\n where x = 1 segment b: where y = 2 # trailing\nmetric m = count(purchase)")
    assert [d.name for d in prog.definitions] == ["a", "b", "m"]


def test_syntax_error_fields() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        dsl.loads("segment gold:\n    where spend_12m in top 5\n", file="a.seg")
    err = info.value
    assert err.location == Location("a.seg", 2, 29)
    assert err.expected == "'%'"
    with pytest.raises(RuleSyntaxError) as info:
        dsl.loads('segment gold:\n    where city = "x" and\n', file="b.seg")
    assert "end of file" in info.value.message


def test_syntax_error_column_and_caret() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        dsl.loads("segment s:\n  where x == 1", file="c.seg")
    err = info.value
    assert err.location is not None and (err.location.line, err.location.col) == (2, 12)
    assert err.source_line == "  where x == 1"
    assert "c.seg:2:12" in str(err) and "\n" + " " * 4 + " " * 11 + "^" in str(err)


def test_bad_date_and_escape_are_our_errors() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        dsl.loads("let d = 2026-02-30")
    assert info.value.location is not None and info.value.location.col == 9
    with pytest.raises(RuleSyntaxError):
        dsl.loads('let s = "a\\tb"')
    with pytest.raises(RuleSyntaxError):
        dsl.loads(b"let s = \"\xff\"")


def test_clause_twice_and_missing_where() -> None:
    with pytest.raises(RuleSyntaxError):
        dsl.loads("segment s: where a = 1 where b = 2")
    with pytest.raises(RuleSyntaxError) as info:
        dsl.loads('segment s "Label": purpose x')
    assert info.value.expected == "where CONDITION"


# -- hypothesis ------------------------------------------------------------------------
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(data: bytes) -> None:
    try:
        dsl.loads(data)
    except RuleError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="segmntwhr ():=<>!%\"#.,-+*/0123456789abcdinoptlvuIİı\n", max_size=80))
def test_random_text_never_crashes(text: str) -> None:
    try:
        dsl.loads(text)
    except RuleError:
        pass


_names = st.sampled_from(["spend", "city", "recency", "x_1", "Orders", "tier"])
_strings = st.text(alphabet='abcİıŞğ"\\\n %', max_size=6).map(lambda s: unicodedata.normalize("NFC", s))
_numbers = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False).map(
    lambda d: ast.Number(d)
)
_literals = st.one_of(
    _numbers,
    _strings.map(ast.String),
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)).map(ast.DateLit),
    st.booleans().map(ast.Bool),
)
_windows = st.one_of(
    st.none(),
    st.builds(ast.Last, st.integers(1, 400), st.sampled_from(ast.UNITS)),
    st.builds(ast.Since, st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1))),
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 1, 1)).map(
        lambda d: ast.DateRange(d, d + dt.timedelta(days=30))
    ),
)
_event_cond = st.builds(ast.Compare, st.sampled_from(["=", "!=", ">"]), _names.map(ast.Name), _literals)
_atoms = st.one_of(
    _literals,
    _names.map(ast.Name),
    st.builds(ast.Rfm, st.sampled_from(ast.RFM_FIELDS)),
    st.builds(ast.DaysSince, st.sampled_from(["last", "first"]), st.sampled_from(["purchase", "visit"])),
    st.builds(ast.Aggregate, st.sampled_from(ast.AGGREGATES), st.sampled_from(["purchase"]),
              st.one_of(st.none(), _names), st.one_of(st.none(), _event_cond), _windows),
    st.builds(ast.ModelCall, st.sampled_from(["cluster", "score"]), _names),
)


def _values(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.builds(ast.BinOp, st.sampled_from(list("+-*/")), children, children),
        st.builds(ast.Neg, children),
    )


_value = st.recursive(_atoms, _values, max_leaves=6)
_preds = st.one_of(
    st.builds(ast.Compare, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), _value, _value),
    st.builds(ast.InList, _value, st.lists(_value, min_size=1, max_size=3).map(tuple), st.booleans()),
    st.builds(ast.Between, _value, _value, _value, st.booleans()),
    st.builds(ast.IsNull, _value, st.booleans()),
    st.builds(ast.TextMatch, st.sampled_from(["contains", "icontains", "starts_with", "ends_with"]), _value,
              _strings.map(ast.String)),
    st.builds(ast.TopN, _value, st.decimals(min_value=Decimal("0.5"), max_value=100, places=1), st.booleans()),
    st.builds(ast.InSegment, _names),
    st.builds(ast.WasInSegment, _names, st.integers(0, 400)),
    st.builds(ast.Consented, st.sampled_from(["email_marketing", "analytics"]), st.one_of(st.none(), st.just("sms"))),
)


def _conds(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.builds(ast.Not, children), st.builds(ast.And, children, children), st.builds(ast.Or, children, children))


_cond = st.recursive(_preds, _conds, max_leaves=5)
_segments = st.builds(
    ast.Segment,
    st.sampled_from(["gold", "Silver", "s_1"]),
    _cond,
    label=st.one_of(st.none(), _strings),
    description=st.one_of(st.none(), _strings),
    purposes=st.lists(st.sampled_from(["email_marketing", "ads_targeting"]), max_size=2, unique=True).map(tuple),
    holdout=st.one_of(st.none(), st.decimals(min_value=1, max_value=50, places=1)),
)
_items = st.one_of(
    _segments,
    st.builds(ast.Metric, _names, _value),
    st.builds(ast.Let, _names, _literals),
    st.builds(ast.Include, st.just("other.seg")),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_items, max_size=4, unique_by=lambda i: getattr(i, "name", None)))
def test_random_programs_print_and_parse_back(items: list) -> None:
    printed = dsl.format_program(dsl.Program(tuple(i for i in items if not isinstance(i, ast.Include))))
    again = dsl.loads(printed)
    assert again.items == tuple(i for i in items if not isinstance(i, ast.Include))


def test_check_of_50_segments_is_fast(tmp_path: Path) -> None:
    lines = ["metric spend = sum(purchase.amount) over last 12 months", "metric recency = days_since(last purchase)"]
    for i in range(50):
        lines.append(
            f'segment s{i} "Segment {i}":\n    purpose email_marketing\n'
            f'    where spend in top {i % 20 + 1}% and recency between {i} and {i + 90}\n'
            f'      and city icontains "ist" and business_type in ("cafe", "hotel")\n'
            f'      and count(purchase where category = "beverages") over last 6 months >= 2\n'
            f"      and consented to email_marketing" + (f" and not in segment s{i - 1}" if i else "")
        )
    path = tmp_path / "fifty.seg"
    path.write_text("\n".join(lines), encoding="utf-8")
    catalog = make_catalog()
    dsl.check(dsl.load([path]), catalog)  # warm the parser
    timings = []
    for _ in range(3):  # the best of three: the machine is shared
        start = time.perf_counter()
        dsl.check(dsl.load([path]), catalog)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.2


def test_friendly_syntax_errors() -> None:
    cases = {
        "segmnt gold: where a = 1": ("segment", None),
        "segment s: wher a = 1": ("where", None),
        "metric m = summ(purchase.amount)": ("sum", None),
        "segment s: where a == 1": (None, "compare with a single '='"),
    }
    for text, (suggestion, hint) in cases.items():
        with pytest.raises(RuleSyntaxError) as info:
            dsl.loads(text)
        assert (info.value.suggestion, info.value.hint) == (suggestion, hint), text
    with pytest.raises(RuleSyntaxError) as info:
        dsl.loads('segment s: where a = "open')
    assert info.value.hint is not None and info.value.location == Location("<string>", 1, 22)
