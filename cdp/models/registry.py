"""The model registry: versioned JSON parameters in the store's ``models`` table.

Never pickle: a model is its algorithm name plus plain JSON (centres, scaler, covariances,
weights, thresholds, coefficients, names), so any engine and any later version of this
code can read it. Algorithms that cannot score new customers by formula keep per-customer
labels and scores in ``model_scores``, keyed by (name, version).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

__all__ = ["StoredModel", "get", "latest", "list_latest", "save", "save_scores", "to_json", "versions"]


@dataclass(frozen=True)
class StoredModel:
    """One trained version of a model, as stored."""

    name: str
    version: int
    algorithm: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    features_hash: str | None
    trained_at: datetime
    as_of: datetime | None

    @property
    def labels(self) -> list[str]:
        """Cluster names (or numbers as text) in the algorithm's cluster order."""
        return list(self.params.get("labels", []))

    def to_model_info(self) -> Any:
        """The dsl's view of this model (``dsl.catalog.ModelInfo``) for rule checks."""
        from dsl.catalog import ModelInfo

        clusters = self.algorithm in ("kmeans", "gmm", "hierarchical", "dbscan")
        return ModelInfo(
            name=self.name,
            algorithm=self.algorithm,
            version=self.version,
            features_hash=self.features_hash or "",
            cluster_names=tuple(self.labels) if clusters and self.params.get("named") else None,
            soft=self.algorithm == "gmm",
            outliers=self.algorithm in ("dbscan", "isolation_forest"),
            predictive=self.algorithm in ("churn", "clv", "isolation_forest"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "algorithm": self.algorithm,
            "params": self.params,
            "metrics": self.metrics,
            "features_hash": self.features_hash,
            "trained_at": self.trained_at,
            "as_of": self.as_of,
        }


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf become null, numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return _clean(obj.tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (datetime,)):
        return obj.isoformat()
    return obj


def to_json(obj: Any) -> str:
    """Serialize parameters or metrics; floats keep every bit (shortest round-trip repr)."""
    return json.dumps(_clean(obj), allow_nan=False, ensure_ascii=False, sort_keys=True)


_COLUMNS = "name, version, algorithm, params, metrics, features_hash, trained_at, as_of"


def _row(row: tuple) -> StoredModel:
    name, version, algorithm, params, metrics, features_hash, trained_at, as_of = row
    return StoredModel(
        name=name,
        version=int(version),
        algorithm=algorithm,
        params=json.loads(params) if isinstance(params, str) else params,
        metrics=json.loads(metrics) if isinstance(metrics, str) and metrics else (metrics or {}),
        features_hash=features_hash,
        trained_at=trained_at,
        as_of=as_of,
    )


def latest(con: duckdb.DuckDBPyConnection, name: str) -> StoredModel | None:
    """The newest version of ``name``, or None when it was never trained."""
    row = con.execute(
        f"SELECT {_COLUMNS} FROM models WHERE name = ? ORDER BY version DESC LIMIT 1", [name]
    ).fetchone()
    return _row(row) if row else None


def get(con: duckdb.DuckDBPyConnection, name: str, version: int | None = None) -> StoredModel | None:
    """A given version of ``name`` (the newest when ``version`` is None)."""
    if version is None:
        return latest(con, name)
    row = con.execute(f"SELECT {_COLUMNS} FROM models WHERE name = ? AND version = ?", [name, version]).fetchone()
    return _row(row) if row else None


def versions(con: duckdb.DuckDBPyConnection, name: str) -> list[int]:
    return [int(r[0]) for r in con.execute("SELECT version FROM models WHERE name = ? ORDER BY version", [name]).fetchall()]


def list_latest(con: duckdb.DuckDBPyConnection) -> list[StoredModel]:
    """The newest version of every model, by name."""
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM models QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1 "
        "ORDER BY name"
    ).fetchall()
    return [_row(r) for r in rows]


def save(
    con: duckdb.DuckDBPyConnection,
    name: str,
    algorithm: str,
    params: dict[str, Any],
    metrics: dict[str, Any],
    features_hash: str | None,
    as_of: datetime | None,
) -> int:
    """Store a new version of ``name`` and return its version number (1, 2, ...)."""
    row = con.execute("SELECT coalesce(max(version), 0) FROM models WHERE name = ?", [name]).fetchone()
    version = int(row[0]) + 1 if row else 1
    trained_at = datetime.now(UTC).replace(tzinfo=None)
    con.execute(
        "INSERT INTO models (name, version, algorithm, params, metrics, features_hash, trained_at, as_of) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [name, version, algorithm, to_json(params), to_json(metrics), features_hash, trained_at, as_of],
    )
    return version


def save_scores(
    con: duckdb.DuckDBPyConnection,
    name: str,
    version: int,
    customer_ids: Sequence[str],
    labels: Sequence[str | None] | None,
    scores: Sequence[float | None] | None,
) -> int:
    """Store per-customer labels/scores for (name, version); returns the row count."""
    import pyarrow as pa

    n = len(customer_ids)
    table = pa.table(
        {
            "customer_id": pa.array(list(customer_ids), pa.string()),
            "label": pa.array(list(labels) if labels is not None else [None] * n, pa.string()),
            "score": pa.array(
                [None if s is None or not math.isfinite(float(s)) else float(s) for s in scores]
                if scores is not None else [None] * n,
                pa.float64(),
            ),
        }
    )
    con.register("_cdp_model_scores_in", table)
    try:
        con.execute(
            "INSERT INTO model_scores (name, version, customer_id, label, score) "
            "SELECT ?, ?, customer_id, label, score FROM _cdp_model_scores_in",
            [name, version],
        )
    finally:
        con.unregister("_cdp_model_scores_in")
    return n
