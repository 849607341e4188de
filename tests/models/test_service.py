"""ModelService on a real workspace store: train every algorithm, list, show, drift, objections."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from cdp.errors import ModelError, NotFoundError
from cdp.models import registry
from cdp.models.naming import NamesBy
from cdp.models.spec import ModelSpec
from cdp.models.training import DEFAULT_CHURN_FEATURES, default_churn_query

from .conftest import AS_OF

FEATURES = DEFAULT_CHURN_FEATURES
NAMES = NamesBy("monetary_365d", "desc", ("Champions", "Loyal", "Promising", "At risk", "Hibernating", "Lost"))


def _query():
    return default_churn_query("purchase", "amount")


def test_kmeans_train_show_list_and_retrain_drift(demo_ws):
    spec = ModelSpec("value", "kmeans", FEATURES, k_range=(2, 4), transform="log1p", names_by=NAMES)
    first = demo_ws.models.train_spec(spec, _query(), AS_OF)
    assert first["version"] == 1
    m = first["metrics"]
    assert [row["k"] for row in m["k_table"]] == [2, 3, 4]
    assert m["k"] in (2, 3, 4) and m["k_criterion"] == "silhouette"
    assert sum(m["sizes"].values()) == m["customers"] > 700
    shown = demo_ws.models.show("value")
    labels = shown["params"]["labels"]
    assert labels == [p["label"] for p in shown["metrics"]["profile"]]
    # names follow the ranking of centres on the names-by feature (desc)
    spend = {p["label"]: p["means"]["monetary_365d"] for p in shown["metrics"]["profile"]}
    ranked = sorted(spend, key=spend.get, reverse=True)
    assert ranked == list(NAMES.names[: len(ranked)])
    assert all(p["suggested_name"] for p in shown["metrics"]["profile"])
    assert shown["metrics"]["drift"] is None

    second = demo_ws.models.train_spec(spec, _query(), AS_OF + timedelta(days=30))
    assert second["version"] == 2
    drift = second["metrics"]["drift"]
    assert drift["previous_version"] == 1
    assert set(drift["psi"]) == set(FEATURES)
    assert all(v >= 0 for v in drift["psi"].values())
    mig = drift["migration"]
    assert np.sum(mig["counts"]) == mig["customers"] == second["metrics"]["customers"]
    rows = demo_ws.models.list()
    assert [(r["name"], r["version"], r["algorithm"]) for r in rows] == [("value", 2, "kmeans")]
    assert demo_ws.models.show("value", version=1)["version"] == 1


def test_unknown_model_is_not_found_with_suggestion(demo_ws):
    spec = ModelSpec("value", "kmeans", FEATURES, k=3)
    demo_ws.models.train_spec(spec, _query(), AS_OF)
    with pytest.raises(NotFoundError) as err:
        demo_ws.models.show("valeu")
    assert err.value.suggestion == "value"


@pytest.mark.parametrize("algorithm", ["dbscan", "isolation_forest", "hierarchical"])
def test_scored_at_training_into_model_scores(demo_ws, algorithm):
    spec = ModelSpec("m", algorithm, FEATURES, k=3, transform="log1p", eps=0.8, min_samples=5)
    out = demo_ws.models.train_spec(spec, _query(), AS_OF)
    with demo_ws.store() as con:
        n, labels = con.execute(
            "SELECT count(*), count(DISTINCT label) FROM model_scores WHERE name = 'm' AND version = ?",
            [out["version"]]).fetchone()
    assert n == out["metrics"]["customers"]
    assert labels >= 2
    if algorithm == "hierarchical":
        dendro = demo_ws.models.show("m")["params"]["dendrogram"]
        assert len(dendro["children"]) == len(dendro["distances"]) > 0


def test_profiling_objection_excludes_customer(demo_ws):
    with demo_ws.store() as con:
        con.execute("INSERT INTO objections VALUES ('c00001', 'profiling', now()::TIMESTAMP, now()::TIMESTAMP, 'test'),"
                    " ('c00002', 'direct_marketing', now()::TIMESTAMP, now()::TIMESTAMP, 'test')")
    spec = ModelSpec("iso", "isolation_forest", FEATURES)
    demo_ws.models.train_spec(spec, _query(), AS_OF)
    with demo_ws.store() as con:
        scored = {r[0] for r in con.execute("SELECT customer_id FROM model_scores WHERE name = 'iso'").fetchall()}
    assert "c00001" not in scored
    assert "c00002" in scored


def test_churn_time_based_validation_and_stored_scores(demo_ws):
    spec = ModelSpec("churn_90d", "churn", (), event="purchase", horizon_days=90)
    out = demo_ws.models.train_spec(spec, None, AS_OF)
    m = out["metrics"]
    assert m["windows"]["valid_cut"] == AS_OF - timedelta(days=90)
    assert m["windows"]["train_cut"] == AS_OF - timedelta(days=180)
    assert m["auc"] > 0.8            # lapsed groups are easy to tell apart
    assert 0 <= m["brier"] < 0.2
    assert m["top_decile_lift"] > 1.0
    shown = demo_ws.models.show("churn_90d")
    assert shown["params"]["features"] == list(FEATURES)
    assert len(shown["params"]["coefficients"]) == len(FEATURES)
    with demo_ws.store() as con:
        lo, hi = con.execute("SELECT min(score), max(score) FROM model_scores WHERE name = 'churn_90d'").fetchone()
    assert 0 <= lo < 0.5 < hi <= 1


def test_churn_needs_history(workspace):
    spec = ModelSpec("c", "churn", (), event="purchase", horizon_days=90)
    with pytest.raises(ModelError):
        workspace.models.train_spec(spec, None, AS_OF)


def test_clv_scores_and_details(demo_ws):
    spec = ModelSpec("clv_12m", "clv", (), horizon_months=12)
    out = demo_ws.models.train_spec(spec, None, AS_OF)
    params = demo_ws.models.show("clv_12m")["params"]
    assert set(params["bgnbd"]) == {"r", "alpha", "a", "b"}
    assert set(params["gamma_gamma"]) == {"p", "q", "gamma"}
    with demo_ws.store() as con:
        rows = con.execute(
            "SELECT s.score, c.value, c.expected_purchases, c.probability_alive FROM model_scores s "
            "JOIN model_clv c USING (name, version, customer_id) WHERE name = 'clv_12m'").fetchall()
    assert len(rows) == out["metrics"]["customers"]
    for score, value, purchases, alive in rows:
        assert score == pytest.approx(value)
        assert purchases >= 0 and 0 <= alive <= 1


def test_status_warnings_for_stale_models(demo_ws):
    spec = ModelSpec("value", "kmeans", FEATURES, k=3)
    demo_ws.models.train_spec(spec, _query(), AS_OF)
    assert demo_ws.models.status_warnings(None) == []
    with demo_ws.store() as con:
        con.execute("UPDATE models SET trained_at = ?", [datetime.now() - timedelta(days=200)])
    warnings = demo_ws.models.status_warnings(None)
    assert len(warnings) == 1 and "cdp model train value" in warnings[0]
    assert demo_ws.models.list()[0]["stale"] is True
    from cdp.ingest.status import workspace_status

    assert warnings[0] in workspace_status(demo_ws)["warnings"]  # `cdp status` shows it


def test_train_is_recorded_in_audit_log(demo_ws):
    demo_ws.models.train_spec(ModelSpec("value", "kmeans", FEATURES, k=3), _query(), AS_OF)
    with demo_ws.store() as con:
        row = con.execute("SELECT target FROM audit_log WHERE action = 'model.train'").fetchone()
    assert row == ("value",)


def test_registry_stores_json_exact_floats(workspace):
    params = {"centres": [[0.1, 1 / 3, -2.5e-300]], "labels": ["A"]}
    with workspace.store() as con:
        v1 = registry.save(con, "x", "kmeans", params, {"silhouette": float("nan")}, "h", AS_OF)
        v2 = registry.save(con, "x", "kmeans", params, {}, "h", None)
        got = registry.latest(con, "x")
        raw = con.execute("SELECT params FROM models WHERE version = 1").fetchone()[0]
        missing = registry.latest(con, "nope")
    assert (v1, v2) == (1, 2)
    assert got.version == 2 and got.params == params
    assert raw.startswith("{")  # JSON text, never a pickle
    assert missing is None


def test_max_age_comes_from_the_rules_config(demo_ws):
    demo_ws.models.train_spec(ModelSpec("value", "kmeans", FEATURES, k=3), _query(), AS_OF)
    with demo_ws.store() as con:
        con.execute("UPDATE models SET trained_at = ?", [datetime.now() - timedelta(days=20)])
    assert demo_ws.models.status_warnings(None) == []
    cfg = demo_ws.config_path.read_text(encoding="utf-8") + "\n[rules.models]\nmax_age_days = 10\n"
    demo_ws.config_path.write_text(cfg, encoding="utf-8")
    fresh = type(demo_ws)(demo_ws.root)  # config is read once per Workspace
    assert len(fresh.models.status_warnings(None)) == 1
