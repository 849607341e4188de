"""`cdp model list|show|compare|train` through the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cdp.cli import app
from cdp.models.naming import NamesBy
from cdp.models.spec import ModelSpec
from cdp.models.training import DEFAULT_CHURN_FEATURES, default_churn_query

from .conftest import AS_OF, load_events, make_workspace

runner = CliRunner()


@pytest.fixture(scope="module")
def trained_ws(tmp_path_factory, demo_events):
    demo_ws = make_workspace(tmp_path_factory.mktemp("cli") / "ws")
    load_events(demo_ws, *demo_events)
    spec = ModelSpec("value", "kmeans", DEFAULT_CHURN_FEATURES, k_range=(2, 3), transform="log1p",
                     names_by=NamesBy("monetary_365d", "desc", ("Top", "Middle", "Low", "Spare")))
    demo_ws.models.train_spec(spec, default_churn_query("purchase", "amount"), AS_OF)
    demo_ws.models.train_spec(spec, default_churn_query("purchase", "amount"), AS_OF)
    demo_ws.models.train_spec(ModelSpec("churn_90d", "churn", (), event="purchase", horizon_days=90), None, AS_OF)
    return demo_ws


@pytest.fixture
def trained(trained_ws, monkeypatch):
    monkeypatch.setenv("CDP_WORKSPACE", str(trained_ws.root))
    monkeypatch.setenv("COLUMNS", "250")
    return trained_ws


def test_list_and_json(trained):
    res = runner.invoke(app, ["model", "list"])
    assert res.exit_code == 0, res.output
    assert "value" in res.output and "kmeans" in res.output and "churn_90d" in res.output
    rows = json.loads(runner.invoke(app, ["model", "list", "--json"]).output)
    assert {(r["name"], r["version"]) for r in rows} == {("value", 2), ("churn_90d", 1)}


def test_show_prints_profile_k_table_and_drift(trained):
    res = runner.invoke(app, ["model", "show", "value"])
    assert res.exit_code == 0, res.output
    for text in ("k selection", "clusters", "suggested name", "Top", "drift vs v1", "migration"):
        assert text in res.output
    data = json.loads(runner.invoke(app, ["model", "show", "value", "--json"]).output)
    assert data["version"] == 2 and data["params"]["labels"]
    assert data["params"]["preprocess"]["transform"] == "log1p"
    assert "Spare" in " ".join(data["warnings"])  # unused name reported
    churn = runner.invoke(app, ["model", "show", "churn_90d"])
    assert "AUC" in churn.output and "coefficients" in churn.output


def test_show_unknown_model_fails_with_suggestion(trained):
    res = runner.invoke(app, ["model", "show", "valu"])
    assert res.exit_code != 0
    assert "unknown model 'valu'" in res.output and "did you mean 'value'" in res.output


def test_every_command_has_an_example_in_help():
    for cmd in ("train", "list", "show", "compare"):
        res = runner.invoke(app, ["model", cmd, "--help"])
        assert res.exit_code == 0 and "Example: cdp model" in res.output
