"""Training one model on the store: fetch features, fit, compare with the last version, save.

The feature query comes from the rule language (``dsl.compile_features``) through a
``FeatureQuery`` callable, so tests can hand in any query with ``customer_id`` first and
one column per feature. Customers with a profiling objection (PRIVACY.md §3) are left out
of every query here, so they are neither trained on nor scored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlglot import exp

from cdp.errors import ModelError
from cdp.models import registry
from cdp.models.clustering import fit_clusters, predict_labels
from cdp.models.drift import migration_matrix, psi, psi_level, reference_bins
from cdp.models.preprocess import Preprocessor
from cdp.models.profile import cluster_profile
from cdp.models.spec import ModelSpec

if TYPE_CHECKING:
    import duckdb

__all__ = ["DAYS_PER_MONTH", "FeatureQuery", "fetch_features", "not_objected", "train_spec"]

#: features query for an evaluation time (local wall time): customer_id, then the features
FeatureQuery = Callable[[datetime], exp.Select]
DAYS_PER_MONTH = 30.4375
CLV_UNIT_DAYS = 7.0  # BG/NBD is fitted in weeks, as in the papers


def not_objected(cid: exp.Expression) -> exp.Expression:
    """``cid NOT IN (customers with a profiling objection)``."""
    sub = (
        exp.select("customer_id").from_("objections").where(exp.column("scope").eq(exp.Literal.string("profiling")))
    )
    return exp.Not(this=exp.In(this=cid, query=exp.Subquery(this=sub)))


def fetch_features(
    con: duckdb.DuckDBPyConnection, query: exp.Select, n_features: int
) -> tuple[np.ndarray, np.ndarray]:
    """Customer ids and the float matrix (NaN = null) of a features query, objectors excluded."""
    names = query.named_selects
    if len(names) != n_features + 1:
        raise ModelError(f"the features query returns {len(names) - 1} features, the model has {n_features}")
    def ref(n: str) -> exp.Column:
        return exp.Column(this=exp.to_identifier(n, quoted=True), table=exp.to_identifier("_f"))

    outer = exp.select(
        exp.Cast(this=ref(names[0]), to=exp.DataType.build("varchar")).as_("customer_id"),
        *[exp.Cast(this=ref(n), to=exp.DataType.build("double")).as_(f"f{i}") for i, n in enumerate(names[1:])],
    ).from_(exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier("_f"))))
    outer = outer.where(not_objected(ref(names[0]))).order_by(exp.column("customer_id"))
    data = con.execute(outer.sql("duckdb")).fetchnumpy()
    ids = np.asarray(data["customer_id"]).astype(str)
    cols: list[np.ndarray] = [np.ma.asarray(data[f"f{i}"], dtype=float).filled(np.nan) for i in range(n_features)]
    X = np.column_stack(cols) if cols else np.zeros((len(ids), 0))
    return ids, X


def _previous_labels(con: duckdb.DuckDBPyConnection, prev: registry.StoredModel, spec: ModelSpec,
                     ids: np.ndarray, X: np.ndarray) -> np.ndarray | None:
    if prev.algorithm in ("kmeans", "gmm"):
        if list(prev.params.get("features", [])) != list(spec.features):
            return None
        return predict_labels(prev.algorithm, prev.params, X)
    rows = dict(con.execute("SELECT customer_id, label FROM model_scores WHERE name = ? AND version = ?",
                            [prev.name, prev.version]).fetchall())
    if not rows:
        return None
    return np.asarray([rows.get(i, "(new)") or "(none)" for i in ids], dtype=object)


def _drift(con: duckdb.DuckDBPyConnection, prev: registry.StoredModel | None, spec: ModelSpec, ids: np.ndarray,
           X: np.ndarray, labels: np.ndarray | None) -> dict[str, Any] | None:
    if prev is None:
        return None
    out: dict[str, Any] = {"previous_version": prev.version}
    ref = prev.params.get("reference")
    if ref:
        values = psi(ref, X, list(spec.features))
        out["psi"] = values
        out["psi_level"] = {k: psi_level(v) for k, v in values.items()}
    if labels is not None and prev.algorithm == spec.algorithm:
        old = _previous_labels(con, prev, spec, ids, X)
        if old is not None:
            out["migration"] = migration_matrix(old, labels)
    return out


def _train_clusters(con: duckdb.DuckDBPyConnection, spec: ModelSpec, query: FeatureQuery, as_of: datetime,
                    prev: registry.StoredModel | None) -> tuple[dict[str, Any], dict[str, Any], Any]:
    ids, X = fetch_features(con, query(as_of), len(spec.features))
    fit = fit_clusters(X, list(spec.features), spec.cluster_options())
    fit.params["reference"] = reference_bins(X, list(spec.features))
    pre = Preprocessor.from_dict(fit.params["preprocess"])
    fit.metrics["profile"] = cluster_profile(pre.impute(X), fit.labels, list(spec.features),
                                             list(fit.params.get("labels", [])))
    fit.metrics["drift"] = _drift(con, prev, spec, ids, X, fit.labels)
    store = None
    if fit.stored_scores:
        store = (ids, fit.labels.astype(str).tolist(), None if fit.scores is None else fit.scores.tolist())
    return fit.params, fit.metrics, store


def _churn_labels(con: duckdb.DuckDBPyConnection, event: str, cut: datetime, horizon_days: int) -> dict[str, int]:
    """customer_id -> 1 when no ``event`` in [cut, cut + horizon), for customers with one before ``cut``."""
    end = cut + timedelta(days=horizon_days)
    rows = con.execute(
        "SELECT customer_id, count(*) FILTER (WHERE ts >= ? AND ts < ?) = 0 AS churned "
        "FROM events WHERE event_type = ? AND ts < ? GROUP BY customer_id "
        "HAVING count(*) FILTER (WHERE ts < ?) > 0",
        [cut, end, event, end, cut],
    ).fetchall()
    return {str(c): int(bool(v)) for c, v in rows}


DEFAULT_CHURN_FEATURES = ("recency_days", "frequency_365d", "monetary_365d", "tenure_days")


def default_churn_query(event: str, amount: str) -> FeatureQuery:
    """RFM-style features of ``event`` for a churn model written without features.

    recency_days / tenure_days: whole days from the last / first event's date to the cut's
    date; frequency_365d / monetary_365d: count and sum of ``amount`` in the 365 days before.
    """

    def query(cut: datetime) -> exp.Select:
        day = exp.Cast(this=exp.Literal.string(cut.date().isoformat()), to=exp.DataType.build("date"))
        ts_day = exp.Cast(this=exp.column("ts"), to=exp.DataType.build("date"))
        since = exp.Literal.string((cut - timedelta(days=365)).isoformat(sep=" "))
        recent = exp.column("ts") >= exp.Cast(this=since, to=exp.DataType.build("timestamp"))
        value = exp.Cast(this=exp.column(amount), to=exp.DataType.build("double"))
        return (
            exp.select(
                exp.column("customer_id"),
                exp.DateDiff(this=day.copy(), expression=exp.Max(this=ts_day.copy()), unit=exp.var("DAY"))
                .as_("recency_days"),
                exp.Sum(this=exp.Case().when(recent.copy(), exp.Literal.number(1)).else_(exp.Literal.number(0)))
                .as_("frequency_365d"),
                exp.Coalesce(
                    this=exp.Sum(this=exp.Case().when(recent.copy(), value).else_(exp.Literal.number(0))),
                    expressions=[exp.Literal.number(0)],
                ).as_("monetary_365d"),
                exp.DateDiff(this=day.copy(), expression=exp.Min(this=ts_day.copy()), unit=exp.var("DAY"))
                .as_("tenure_days"),
            )
            .from_("events")
            .where(exp.column("event_type").eq(exp.Literal.string(event)))
            .where(exp.column("ts") < exp.Cast(this=exp.Literal.string(cut.isoformat(sep=" ")),
                                               to=exp.DataType.build("timestamp")))
            .group_by(exp.column("customer_id"))
        )

    return query


def _train_churn(con: duckdb.DuckDBPyConnection, spec: ModelSpec, query: FeatureQuery | None, as_of: datetime,
                 prev: registry.StoredModel | None, amount: str) -> tuple[dict[str, Any], dict[str, Any], Any]:
    from cdp.models.churn import fit_churn, predict_churn

    if not spec.event or not spec.horizon_days:
        raise ModelError("churn needs an event and a horizon in days", model=spec.name)
    event, horizon = spec.event, spec.horizon_days
    stored_scores = not spec.features or query is None
    if stored_scores or query is None:
        spec = replace(spec, features=DEFAULT_CHURN_FEATURES)
        query = default_churn_query(event, amount)
    h = timedelta(days=horizon)
    windows = {}
    for key, cut in (("train", as_of - 2 * h), ("valid", as_of - h)):
        ids, X = fetch_features(con, query(cut), len(spec.features))
        labels = _churn_labels(con, event, cut, horizon)
        keep = np.array([i in labels for i in ids], dtype=bool)
        y = np.array([labels[i] for i in ids[keep]], dtype=int)
        windows[key] = (ids[keep], X[keep], y, cut)
    _, Xt, yt, cut_t = windows["train"]
    ids_v, Xv, yv, cut_v = windows["valid"]
    fit = fit_churn(Xt, yt, Xv, yv, list(spec.features), transform=spec.transform,
                    scale=spec.scale if spec.scale != "none" else "none", seed=spec.seed)
    fit.params.update({"event": spec.event, "horizon_days": spec.horizon_days,
                       "reference": reference_bins(Xv, list(spec.features))})
    fit.metrics["windows"] = {"train_cut": cut_t, "valid_cut": cut_v, "horizon_days": spec.horizon_days}
    fit.metrics["drift"] = _drift(con, prev, spec, ids_v, Xv, None)
    if not stored_scores:
        return fit.params, fit.metrics, None
    # without rule-file features the features are ours: score everyone now, into model_scores
    fit.params["stored_scores"] = True
    ids, X = fetch_features(con, query(as_of), len(spec.features))
    p = predict_churn(fit.params, X)
    fit.metrics["customers_scored"] = len(ids)
    return fit.params, fit.metrics, (ids.tolist(), None, p.tolist())


def clv_summary(con: duckdb.DuckDBPyConnection, event: str, amount: str, as_of: datetime) -> dict[str, np.ndarray]:
    """BG/NBD inputs per customer from ``event`` rows before ``as_of`` (objectors excluded)."""
    from cdp.models.clv import rfm_summary

    q = (
        exp.select(
            exp.column("customer_id"),
            exp.DateDiff(this=exp.Cast(this=exp.column("ts"), to=exp.DataType.build("date")),
                         expression=exp.Literal.string("1970-01-01"), unit=exp.var("day")).as_("d"),
            exp.Coalesce(this=exp.Cast(this=exp.column(amount), to=exp.DataType.build("double")),
                         expressions=[exp.Literal.number(0)]).as_("v"),
        )
        .from_("events")
        .where(exp.column("event_type").eq(exp.Placeholder()))
        .where(exp.column("ts") < exp.Placeholder())
        .where(not_objected(exp.column("customer_id")))
    )
    data = con.execute(q.sql("duckdb"), [event, as_of]).fetchnumpy()
    ids = np.asarray(data["customer_id"]).astype(str)
    uniq, idx = np.unique(ids, return_inverse=True)
    end_day = float((as_of.date() - datetime(1970, 1, 1).date()).days) + (
        as_of - datetime(as_of.year, as_of.month, as_of.day)).total_seconds() / 86400.0
    s = rfm_summary(idx, np.asarray(data["d"], dtype=float), np.ma.asarray(data["v"], dtype=float).filled(0.0),
                    end_day, unit_days=CLV_UNIT_DAYS)
    s["customer_id"] = uniq[s["customer"]]
    return s


def _train_clv(con: duckdb.DuckDBPyConnection, spec: ModelSpec, as_of: datetime, event: str, amount: str,
               ) -> tuple[dict[str, Any], dict[str, Any], Any]:
    from cdp.models.clv import fit_bgnbd, fit_gamma_gamma

    if not spec.horizon_months:
        raise ModelError("clv needs a horizon in months", model=spec.name)
    s = clv_summary(con, event, amount, as_of)
    if len(s["x"]) < 10:
        raise ModelError("clv needs purchases of at least 10 customers", model=spec.name)
    bg, bg_stats = fit_bgnbd(s["x"], s["t_x"], s["T"])
    gg, gg_stats = fit_gamma_gamma(s["x"], s["m"])
    t = spec.horizon_months * DAYS_PER_MONTH / CLV_UNIT_DAYS
    purchases = bg.expected_purchases(t, s["x"], s["t_x"], s["T"])
    alive = bg.probability_alive(s["x"], s["t_x"], s["T"])
    spend = gg.expected_spend(s["x"], s["m"])
    value = purchases * spend
    params = {"bgnbd": bg.to_dict(), "gamma_gamma": gg.to_dict(), "horizon_months": spec.horizon_months,
              "time_unit_days": CLV_UNIT_DAYS, "event": event, "amount": amount, "discount_rate": 0.0}
    metrics = {
        "customers": len(value),
        "bgnbd": bg_stats,
        "gamma_gamma": gg_stats,
        "total_value": float(np.sum(value)),
        "mean_value": float(np.mean(value)),
        "mean_expected_purchases": float(np.mean(purchases)),
        "mean_probability_alive": float(np.mean(alive)),
        "value_quantiles": {q: float(np.quantile(value, float(q))) for q in ("0.5", "0.9", "0.99")},
    }
    detail = (s["customer_id"], purchases, spend, alive, value)
    return params, metrics, ("clv", detail)


def train_spec(
    con: duckdb.DuckDBPyConnection,
    spec: ModelSpec,
    query: FeatureQuery | None,
    as_of: datetime,
    *,
    event: str = "purchase",
    amount: str = "amount",
) -> dict[str, Any]:
    """Train ``spec`` as of ``as_of`` (local wall time), store a new version, return a summary."""
    prev = registry.latest(con, spec.name)
    if spec.algorithm == "clv":
        params, metrics, store = _train_clv(con, spec, as_of, event, amount)
    elif spec.algorithm == "churn":
        params, metrics, store = _train_churn(con, spec, query, as_of, prev, amount)
    elif query is None:
        raise ModelError("no features query", model=spec.name)
    else:
        params, metrics, store = _train_clusters(con, spec, query, as_of, prev)
    params["definition_hash"] = spec.definition_hash()
    con.execute("BEGIN TRANSACTION")
    try:
        version = registry.save(con, spec.name, spec.algorithm, params, metrics, spec.features_hash, as_of)
        if store is not None and isinstance(store[0], str) and store[0] == "clv":
            ids, purchases, spend, alive, value = store[1]
            registry.save_scores(con, spec.name, version, ids.tolist(), None, value.tolist())
            _save_clv(con, spec.name, version, ids, purchases, spend, alive, value)
        elif store is not None:
            registry.save_scores(con, spec.name, version, *store)
        from privacy.audit import record

        record(con, "model.train", target=spec.name,
               details={"version": version, "algorithm": spec.algorithm,
                        "customers": metrics.get("customers") or metrics.get("validation", {}).get("customers")})
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return {"name": spec.name, "version": version, "algorithm": spec.algorithm, "metrics": metrics}


def _save_clv(con: duckdb.DuckDBPyConnection, name: str, version: int, ids: np.ndarray, purchases: np.ndarray,
              spend: np.ndarray, alive: np.ndarray, value: np.ndarray) -> None:
    import pyarrow as pa

    table = pa.table({"customer_id": pa.array(ids.astype(str).tolist(), pa.string()),
                      "expected_purchases": purchases, "expected_spend": spend,
                      "probability_alive": alive, "value": value})
    con.register("_cdp_clv_in", table)
    try:
        con.execute("INSERT INTO model_clv SELECT ?, ?, customer_id, expected_purchases, expected_spend, "
                    "probability_alive, value FROM _cdp_clv_in", [name, version])
    finally:
        con.unregister("_cdp_clv_in")
