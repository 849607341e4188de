"""Models defined in rule files: `cdp model train`, then segments that use them.

The segment query (compiled by the dsl, scored by cdp.models.sql) must put each customer
in the cluster the stored model's numpy scorer gives for the same features.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cdp.cli import app
from cdp.errors import CDPError
from cdp.models import registry
from cdp.models.clustering import predict_labels
from cdp.models.training import fetch_features

from .conftest import load_events, make_workspace

RULES = '''
metric spend_12m  = sum(purchase.amount) over last 12 months
metric orders_90d = count(purchase) over last 90 days
metric recency    = days_since(last purchase)

model value_clusters = kmeans(recency, orders_90d, spend_12m)
    k auto(2..4)
    transform log1p
    names by spend_12m desc ("Champions", "Loyal", "Promising", "At risk")

model numbered = kmeans(recency, spend_12m) k 3 transform log1p

model churn_90d = churn(purchase, horizon 90 days)

segment champions:
    where cluster(value_clusters) = "Champions"

segment second:
    where cluster(numbered) = 2

segment likely_churners:
    where score(churn_90d) >= 0.5 and spend_12m > 0
'''
AS_OF = "2026-06-01"
runner = CliRunner()


@pytest.fixture(scope="module")
def rules_ws(tmp_path_factory, demo_events):
    ws = make_workspace(tmp_path_factory.mktemp("rules") / "ws")
    load_events(ws, *demo_events)
    (ws.segments_dir / "models.seg").write_text(RULES, encoding="utf-8")
    return ws


def test_segment_over_untrained_model_says_how_to_train(rules_ws):
    with pytest.raises(CDPError) as err:
        rules_ws.segments.preview("champions", as_of=AS_OF)
    assert err.value.hint == "run `cdp model train value_clusters`"


def test_train_from_rules_then_segments_agree_with_the_model(rules_ws, monkeypatch):
    monkeypatch.setenv("CDP_WORKSPACE", str(rules_ws.root))
    res = runner.invoke(app, ["model", "train", "--as-of", AS_OF, "--json"])
    assert res.exit_code == 0, res.output
    trained = {r["name"]: r for r in json.loads(res.output)}
    assert set(trained) == {"value_clusters", "numbered", "churn_90d"}
    assert trained["churn_90d"]["metrics"]["auc"] > 0.8

    import dsl
    from cdp.catalog import WorkspaceCatalog

    when = rules_ws.segments.as_of(AS_OF)
    opts = dsl.CompileOptions(as_of=when.local, as_of_utc=when.utc, timezone=when.timezone, dialect="duckdb")
    with rules_ws.store() as con:
        checked = dsl.check(dsl.load(sorted(rules_ws.segments_dir.glob("*.seg"))), WorkspaceCatalog(rules_ws, con))
        for model, segment, wanted in (("value_clusters", "champions", "Champions"), ("numbered", "second", "2")):
            stored = registry.latest(con, model)
            assert stored.features_hash == dsl.model_defs(checked)[model].features_hash
            ids, X = fetch_features(con, dsl.compile_features(checked, model, opts), len(stored.params["features"]))
            expected = set(ids[predict_labels(stored.algorithm, stored.params, X) == wanted])
            query = dsl.compile_segment(checked, segment, opts)
            sql = query.sql("duckdb") if hasattr(query, "sql") else str(query)
            got = {r[0] for r in con.execute(sql).fetchall()}
            assert got == expected and expected
    churners = rules_ws.segments.preview("likely_churners", as_of=AS_OF)
    assert 0 < churners["size"] < churners["customers"]


def test_retraining_after_a_feature_changes_meaning_is_required(rules_ws, monkeypatch):
    monkeypatch.setenv("CDP_WORKSPACE", str(rules_ws.root))
    assert runner.invoke(app, ["model", "train", "numbered", "--as-of", AS_OF]).exit_code == 0
    text = RULES.replace("metric recency    = days_since(last purchase)",
                         "metric recency    = days_since(first purchase)")
    (rules_ws.segments_dir / "models.seg").write_text(text, encoding="utf-8")
    try:
        with pytest.raises(CDPError) as err:
            rules_ws.segments.preview("second", as_of=AS_OF)
        assert err.value.name in ("value_clusters", "numbered")  # both use recency
        assert err.value.hint == f"run `cdp model train {err.value.name}`"
    finally:
        (rules_ws.segments_dir / "models.seg").write_text(RULES, encoding="utf-8")


def test_compare_tabulates_three_algorithms_on_one_sample(rules_ws, monkeypatch):
    monkeypatch.setenv("CDP_WORKSPACE", str(rules_ws.root))
    res = runner.invoke(app, ["model", "compare", "value_clusters", "--as-of", AS_OF, "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [r["algorithm"] for r in data["rows"]] == ["kmeans", "gmm", "hierarchical"]
    assert data["sample"] == data["customers"] == 800
    kmeans = data["rows"][0]
    assert kmeans["ari_vs_kmeans"] == pytest.approx(1.0)
    assert all(2 <= r["k"] <= 4 for r in data["rows"])
    assert data["best_by_silhouette"] in ("kmeans", "gmm", "hierarchical")


def test_train_unknown_model_suggests_the_defined_one(rules_ws, monkeypatch):
    monkeypatch.setenv("CDP_WORKSPACE", str(rules_ws.root))
    res = runner.invoke(app, ["model", "train", "value_cluster", "--as-of", AS_OF])
    assert res.exit_code != 0
    assert "did you mean 'value_clusters'" in res.output
