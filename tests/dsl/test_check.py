"""Check errors carry their fields (location, name, suggestion); checks run before any SQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import dsl
from cdp.errors import Location, RuleCheckError, RuleError, RuleSyntaxError
from dsl.models import model_defs
from tests.dsl.conftest import make_catalog

BASE = """metric spend_12m = sum(purchase.amount) over last 12 months
metric recency = days_since(last purchase)
model value_clusters = kmeans(recency, spend_12m)
    k 3
    names by spend_12m desc ("Champions", "Loyal", "At risk")
model mix = gmm(recency, spend_12m)
    k auto(2..4)
"""


def _error(text: str, catalog: dsl.MemoryCatalog | None = None, file: str = "r.seg") -> RuleCheckError:
    with pytest.raises(RuleCheckError) as info:
        dsl.check(dsl.loads(text, file=file), catalog or make_catalog())
    return info.value


def _trained(catalog: dsl.MemoryCatalog, text: str = BASE) -> dsl.MemoryCatalog:
    checked_defs = None
    prog = dsl.loads(text)
    # model definitions do not need trained models: check a program without segments
    defs = model_defs(dsl.check(dsl.Program(tuple(d for d in prog.items if type(d).__name__ != "Segment")), catalog))
    checked_defs = defs
    for name, d in checked_defs.items():
        catalog.models[name] = dsl.ModelInfo(
            name, d.algorithm, 1, d.features_hash, cluster_names=d.names, soft=d.algorithm == "gmm"
        )
    return catalog


def test_unknown_metric_suggests_closest() -> None:
    err = _error(BASE + "segment s:\n    where spend12m > 5\n")
    assert err.name == "spend12m" and err.suggestion == "spend_12m"
    assert err.location == Location("r.seg", 9, 11)
    assert "did you mean 'spend_12m'?" in str(err) and "^" in str(err)


def test_unknown_trait_suggests_closest() -> None:
    err = _error("segment s: where bussiness_type = \"cafe\"")
    assert (err.name, err.suggestion) == ("bussiness_type", "business_type")


def test_string_compared_with_number() -> None:
    err = _error('segment s: where city > 5')
    assert err.location == Location("r.seg", 1, 18)
    assert "text" in err.message and "number" in err.message
    err = _error('metric spend = sum(purchase.amount)\nsegment s: where spend = "high"')
    assert err.location is not None and err.location.line == 2


def test_probability_on_kmeans() -> None:
    catalog = _trained(make_catalog())
    err = _error(BASE + 'segment s: where probability(value_clusters, "Loyal") > 0.5', catalog)
    assert err.name == "value_clusters" and err.location is not None and err.location.line == 8
    dsl.check(dsl.loads(BASE + 'segment s: where probability(mix, "1") > 0.5'), _trained(make_catalog()))


def test_holdout_out_of_range() -> None:
    err = _error("segment s:\n    where city = \"x\"\n    holdout 150%")
    assert err.name == "s" and err.expected is not None


def test_include_cycle(tmp_path: Path) -> None:
    (tmp_path / "a.seg").write_text('include "b.seg"\nsegment a: where city = "x"\n', encoding="utf-8")
    (tmp_path / "b.seg").write_text('include "a.seg"\nsegment b: where city = "y"\n', encoding="utf-8")
    with pytest.raises(RuleCheckError) as info:
        dsl.load([tmp_path / "a.seg"])
    err = info.value
    assert err.name == "a.seg" and err.location is not None and err.location.line == 1
    assert "cycle" in err.message


def test_include_loaded_once_and_relative(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "common.seg").write_text("metric spend = sum(purchase.amount)\n", encoding="utf-8")
    (tmp_path / "sub" / "a.seg").write_text('include "../common.seg"\nsegment a: where spend > 1\n', encoding="utf-8")
    (tmp_path / "b.seg").write_text('include "common.seg"\nsegment b: where spend > 2\n', encoding="utf-8")
    prog = dsl.load([tmp_path / "sub" / "a.seg", tmp_path / "b.seg", tmp_path / "common.seg"])
    assert sorted(d.name for d in prog.definitions) == ["a", "b", "spend"]
    dsl.check(prog, make_catalog())


def test_segment_cycle() -> None:
    err = _error('segment a: where in segment b\nsegment b: where city = "x" and in segment a')
    assert err.name in ("a", "b") and "cycle" in err.message


def test_duplicate_name_in_two_files(tmp_path: Path) -> None:
    (tmp_path / "a.seg").write_text('segment gold: where city = "x"\n', encoding="utf-8")
    (tmp_path / "b.seg").write_text('\nsegment gold: where city = "y"\n', encoding="utf-8")
    with pytest.raises(RuleCheckError) as info:
        dsl.load([tmp_path / "a.seg", tmp_path / "b.seg"])
    err = info.value
    assert err.name == "gold" and err.location is not None and err.location.line == 2
    assert "a.seg:1:9" in err.message and "b.seg:2:9" in err.message


def test_untrained_model() -> None:
    err = _error(BASE + 'segment s: where cluster(value_clusters) = "Loyal"')
    assert err.name == "value_clusters" and err.hint == "run `cdp model train value_clusters`"


def test_trained_model_and_cluster_names() -> None:
    catalog = _trained(make_catalog())
    dsl.check(dsl.loads(BASE + 'segment s: where cluster(value_clusters) = "Loyal"'), catalog)
    err = _error(BASE + 'segment s: where cluster(value_clusters) = "Loyl"', catalog)
    assert (err.name, err.suggestion) == ("Loyl", "Loyal")


def test_feature_change_needs_retraining() -> None:
    catalog = _trained(make_catalog())
    changed = BASE.replace("over last 12 months", "over last 6 months")
    err = _error(changed + 'segment s: where cluster(value_clusters) = "Loyal"', catalog)
    assert err.hint == "run `cdp model train value_clusters`"


def test_purpose_limitation() -> None:
    err = _error('metric office = tax_office\nsegment s:\n    purpose email_marketing\n    where office = "x"')
    assert err.name == "tax_office" and "email_marketing" in err.message
    dsl.check(dsl.loads('segment s:\n    purpose analytics\n    where tax_office = "x"'), make_catalog())


def test_unknown_purpose_and_channel() -> None:
    err = _error("segment s: where consented to emial_marketing")
    assert (err.name, err.suggestion) == ("emial_marketing", "email_marketing")
    err = _error("segment s: where consented to email_marketing via fax")
    assert err.name == "fax"


def test_inner_where_uses_event_properties_only() -> None:
    err = _error('segment s: where count(purchase where city = "x") > 1')
    assert err.name == "city"


def test_null_comparison_points_to_is_null() -> None:
    err = _error("segment s: where city = null")
    assert err.expected == "'is null' or 'is not null'"


def test_check_all_reports_every_definition() -> None:
    errors = dsl.check_all(dsl.loads('segment a: where cty = "x"\nsegment b: where city > 1\nsegment c: where city = "x"'),
                           make_catalog())
    assert [type(e) for e in errors] == [RuleCheckError, RuleCheckError]
    assert [e.location.line for e in errors if e.location] == [1, 2]
    assert all(isinstance(e, RuleError) for e in errors)


def test_unknown_event_type() -> None:
    err = _error("segment s: where count(purchse) > 1")
    assert (err.name, err.suggestion) == ("purchse", "purchase")


def test_user_literals_stay_literals() -> None:
    """Quotes, semicolons and comment markers in strings reach SQL only as literal nodes."""
    import duckdb

    from cdp.store import migrate

    nasty = "x'; DROP TABLE customers; -- \" \\ ünïcode"
    rule = 'segment s: where city = "' + nasty.replace("\\", "\\\\").replace('"', '\\"') + '" or city contains "\'--"'
    checked = dsl.check(dsl.loads(rule), make_catalog())
    import datetime as dt

    seg = dsl.compile_segment(checked, "s", dsl.CompileOptions(as_of=dt.datetime(2026, 1, 1)))
    con = duckdb.connect()
    migrate(con)
    con.execute("ALTER TABLE customers ADD COLUMN city VARCHAR")
    con.executemany(
        "INSERT INTO customers (customer_id, first_seen_at, updated_at, city) VALUES (?, now(), now(), ?)",
        [("a", nasty), ("b", "plain"), ("c", "o'--x")],
    )
    for dialect in ("duckdb",):
        assert sorted(r[0] for r in con.execute(seg.sql(dialect)).fetchall()) == ["a", "c"]
    assert con.execute("SELECT count(*) FROM customers").fetchone() == (3,)


# -- event properties: columns, JSON keys, or unknown ------------------------------------
STRICT = {"json_keys": set()}  # the catalog knows there are no JSON properties


def test_misspelt_property_in_aggregate_is_unknown() -> None:
    err = _error("segment s: where sum(purchase.amout) > 0", make_catalog(**STRICT))
    assert (err.name, err.suggestion) == ("amout", "amount")
    assert err.location == Location("r.seg", 1, 31)  # the caret is under `amout`
    assert "unknown event property 'amout'; did you mean 'amount'?" in str(err)
    assert err.hint is not None and "category" in err.hint


def test_misspelt_property_in_inner_where_is_unknown() -> None:
    err = _error('segment s: where count(purchase where categry = "food") > 0', make_catalog(**STRICT))
    assert (err.name, err.suggestion) == ("categry", "category")
    assert err.location == Location("r.seg", 1, 39)
    err = _error("metric m = count_distinct(purchase.zzz)\nsegment s: where m > 0", make_catalog(**STRICT))
    assert (err.name, err.suggestion) == ("zzz", None)
    assert err.location == Location("r.seg", 1, 36)


def test_json_keys_are_known_properties() -> None:
    catalog = make_catalog(json_keys={"store_id", "coupon"})
    dsl.check(dsl.loads('segment s: where count(purchase where store_id = "s1" and coupon is not null) > 0'), catalog)
    dsl.check(dsl.loads("segment s: where count_distinct(purchase.store_id) > 1"), catalog)
    err = _error("segment s: where count_distinct(purchase.stor_id) > 1", catalog)
    assert (err.name, err.suggestion) == ("stor_id", "store_id")


def test_unknown_json_keys_accept_any_property() -> None:
    """None from ``event_json_keys`` (or no such method) keeps the old rule: any name is a JSON key."""
    rule = 'segment s: where sum(purchase.amout) > 0 and count(purchase where categry = "x") > 0'
    dsl.check(dsl.loads(rule), make_catalog())  # json_keys=None

    class OldCatalog:
        """A catalog written before ``event_json_keys`` existed."""

        def __init__(self, inner: dsl.MemoryCatalog) -> None:
            self.inner = inner

        def traits(self) -> Any:
            return self.inner.traits()

        def event_properties(self) -> Any:
            return self.inner.event_properties()

        def event_types(self) -> Any:
            return self.inner.event_types()

        def purposes(self) -> Any:
            return self.inner.purposes()

        def allowed_purposes(self, kind: str, name: str) -> Any:
            return self.inner.allowed_purposes(kind, name)

        def rfm_settings(self) -> Any:
            return self.inner.rfm_settings()

        def model(self, name: str) -> Any:
            return self.inner.model(name)

        def model_expression(self, *args: Any) -> Any:
            return self.inner.model_expression(*args)

    old = OldCatalog(make_catalog(**STRICT))
    assert isinstance(old, dsl.Catalog)
    dsl.check(dsl.loads(rule), old)


def test_property_purpose_limits_still_follow_unknown_json_keys() -> None:
    catalog = make_catalog(json_keys={"coupon"}, purpose_limits={("property", "coupon"): {"analytics"}})
    err = _error('segment s:\n    purpose email_marketing\n    where count(purchase where coupon = "x") > 0', catalog)
    assert err.name == "coupon" and "email_marketing" in err.message


# -- carets under the name that is wrong -----------------------------------------------
def test_unknown_event_caret_is_under_the_event() -> None:
    err = _error("segment s: where count(purchse) > 1")
    assert err.location == Location("r.seg", 1, 24)
    err = _error("segment s: where sum(purchse.amount where quantity > 1) over last 3 days > 1")
    assert (err.name, err.location) == ("purchse", Location("r.seg", 1, 22))
    err = _error("segment s: where days_since(last purchse) > 1")
    assert (err.name, err.suggestion, err.location) == ("purchse", "purchase", Location("r.seg", 1, 34))


def test_unknown_channel_caret_is_under_the_channel() -> None:
    err = _error("segment s: where consented to email_marketing via fax")
    assert err.location == Location("r.seg", 1, 51)
    assert err.expected is not None and "email" in err.expected
    err = _error("segment s: where consented to email_marketing via emal")
    assert (err.name, err.suggestion) == ("emal", "email")


def test_unknown_purpose_caret_stays_under_the_purpose() -> None:
    err = _error("segment s: where consented to email_marketting via email")
    assert err.location == Location("r.seg", 1, 31)


# -- rfm.* and incomplete definitions (syntax errors, with the same fields) --------------
def _syntax(text: str) -> RuleSyntaxError:
    with pytest.raises(RuleSyntaxError) as info:
        dsl.loads(text, file="r.seg")
    return info.value


def test_unknown_rfm_value_suggests_closest() -> None:
    err = _syntax('segment s: where rfm.scor = "555"')
    assert (err.name, err.suggestion) == ("scor", "score")
    assert err.location == Location("r.seg", 1, 22)
    assert err.expected is not None and "segment" in err.expected
    assert _syntax("segment s: where rfm.xyz > 1").suggestion is None


def test_missing_value_before_the_next_definition() -> None:
    err = _syntax("segment s where credit >= \nsegment t where credit > 1\n")
    assert err.location == Location("r.seg", 2, 1)
    assert "value is missing before 'segment'" in err.message
    assert err.expected is not None and "a number" in err.expected
    err = _syntax("let x =\n\n  # a comment\nMETRIC m = count(purchase)\n")
    assert err.location == Location("r.seg", 4, 1) and "before 'metric'" in err.message
    err = _syntax('metric m = sum(purchase.amount) over last\nsegment t where m > 1\n')
    assert err.location == Location("r.seg", 2, 1) and err.expected == "a number"
    err = _syntax("segment s where city = \"x\" and\nsegment t where city = \"y\"\n")
    assert err.location == Location("r.seg", 2, 1) and "condition is missing" in err.message
    err = _syntax("metric\nsegment s where credit > 1\n")
    assert err.location == Location("r.seg", 2, 1) and "name is missing" in err.message
    err = _syntax("segment s where credit in\nmodel m = kmeans(credit)\n")
    assert err.location == Location("r.seg", 2, 1) and "before 'model'" in err.message


def test_a_trait_called_like_a_keyword_is_still_a_trait() -> None:
    """`segment` starts a definition only where one can start; elsewhere it is a name."""
    catalog = make_catalog(trait_types={"segment": "text", "city": "text"})
    dsl.check(dsl.loads('segment s where segment = "horeca"\nsegment t where city = "x"\n'), catalog)
    err = _syntax("segment s where not segment t\n")  # mid-line: the parser's own message
    assert err.location == Location("r.seg", 1, 29) and "unexpected 't'" in err.message
    err = _error("segment s where city >= \nsegment")  # parses: `segment` is a value here
    assert err.name == "segment" and err.hint is not None and "missing" in err.hint
