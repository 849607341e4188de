"""``ws.models``: train, list, show and compare the models defined in the rule files.

Models are defined in ``segments/*.seg`` (DSL.md §Models); their features are compiled by
the rule language (``dsl.compile_features``) and evaluated on the store as of the training
time. Every version is kept in the ``models`` table as JSON (never pickle).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cdp.errors import CDPError, ModelError, NotFoundError
from cdp.models import registry
from cdp.models.spec import ModelSpec, spec_from_def
from cdp.models.training import FeatureQuery, fetch_features, train_spec

if TYPE_CHECKING:
    import duckdb

    from cdp.workspace import Workspace

__all__ = ["ModelService"]

AsOfLike = str | date | datetime | None
Progress = Callable[[str, int, int], None]


def _key_metric(m: registry.StoredModel) -> tuple[str, float | None]:
    met = m.metrics
    for key in ("silhouette", "auc", "bic", "outlier_share", "noise_share", "total_value"):
        if met.get(key) is not None:
            return key, met[key]
    return "", None


class ModelService:
    """Machine-learned segments of one workspace."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    # -- definitions --------------------------------------------------------------------
    def _as_of(self, value: AsOfLike) -> Any:
        from cdp.segments.asof import parse_as_of

        return parse_as_of(value, self.ws.timezone)

    def _program(self, con: duckdb.DuckDBPyConnection) -> tuple[Any, dict[str, Any]]:
        from dataclasses import replace

        import dsl
        from cdp.catalog import WorkspaceCatalog
        from dsl.ast import Segment

        paths = sorted(self.ws.segments_dir.glob("*.seg"))
        if not paths:
            raise CDPError(f"no rule files in {self.ws.segments_dir}",
                           hint="define models in segments/*.seg (see docs/models.md)")
        prog = dsl.load(paths)
        # segments are left out: they may use the very models being trained (untrained yet,
        # or trained on older feature definitions); the build checks them afterwards
        prog = replace(prog, items=tuple(i for i in prog.items if not isinstance(i, Segment)),
                       included=tuple(i for i in prog.included if not isinstance(i, Segment)))
        checked = dsl.check(prog, WorkspaceCatalog(self.ws, con))
        return checked, dsl.model_defs(checked)

    def _query_for(self, checked: Any, name: str) -> FeatureQuery:
        import dsl

        def query(local: datetime) -> Any:
            when = self._as_of(local)
            opts = dsl.CompileOptions(as_of=when.local, as_of_utc=when.utc, timezone=when.timezone, dialect="duckdb")
            return dsl.compile_features(checked, name, opts)

        return query

    def definitions(self) -> dict[str, ModelSpec]:
        """The models the rule files define, by name."""
        with self.ws.store() as con:
            checked, defs = self._program(con)
            return {name: self._spec(checked, name, d) for name, d in defs.items()}

    def _spec(self, checked: Any, name: str, d: Any) -> ModelSpec:
        return spec_from_def(name, d)

    # -- training -----------------------------------------------------------------------
    def train(self, names: Iterable[str] | None = None, as_of: AsOfLike = None,
              progress: Progress | None = None) -> list[dict[str, Any]]:
        """Train the named models (all defined ones by default) as of ``as_of``; new versions."""
        when = self._as_of(as_of)
        rfm = self.ws.config.rules.rfm
        out = []
        with self.ws.store() as con:
            checked, defs = self._program(con)
            wanted = list(names) if names else sorted(defs)
            for name in wanted:
                if name not in defs:
                    import difflib

                    close = difflib.get_close_matches(name, sorted(defs), n=1)
                    raise NotFoundError("model", name, suggestion=close[0] if close else None,
                                        hint="models are defined in segments/*.seg with `model NAME = ...`")
            for i, name in enumerate(wanted):
                if progress:
                    progress(name, i, len(wanted))
                spec = self._spec(checked, name, defs[name])
                out.append(train_spec(con, spec, self._query_for(checked, name), when.local,
                                      event=rfm.event, amount=rfm.amount))
            if progress:
                progress("", len(wanted), len(wanted))
        return out

    def train_spec(self, spec: ModelSpec, query: FeatureQuery | None, as_of: AsOfLike = None) -> dict[str, Any]:
        """Train one model from an explicit spec and features query (Python API, tests)."""
        when = self._as_of(as_of)
        rfm = self.ws.config.rules.rfm
        with self.ws.store() as con:
            return train_spec(con, spec, query, when.local, event=rfm.event, amount=rfm.amount)

    # -- reading ------------------------------------------------------------------------
    def _require(self, con: duckdb.DuckDBPyConnection, name: str, version: int | None = None) -> registry.StoredModel:
        stored = registry.get(con, name, version)
        if stored is None:
            known = [m.name for m in registry.list_latest(con)]
            import difflib

            close = difflib.get_close_matches(name, known, n=1)
            raise NotFoundError("model", name, suggestion=close[0] if close else None,
                                hint=f"`cdp model train {name}` trains it; `cdp model list` shows trained models")
        return stored

    def list(self) -> list[dict[str, Any]]:
        """The newest version of every trained model, one row each."""
        with self.ws.store() as con:
            models = registry.list_latest(con)
        rows = []
        for m in models:
            key, value = _key_metric(m)
            rows.append({"name": m.name, "algorithm": m.algorithm, "version": m.version,
                         "trained_at": m.trained_at, "as_of": m.as_of, "key_metric": key, "value": value,
                         "k": m.metrics.get("k"), "customers": m.metrics.get("customers"),
                         "stale": self._stale(m)})
        return rows

    def show(self, name: str, version: int | None = None) -> dict[str, Any]:
        """Everything about one model version: parameters, metrics, k table, profile, warnings."""
        with self.ws.store() as con:
            m = self._require(con, name, version)
            versions = registry.versions(con, name)
        data = m.to_dict()
        data["versions"] = versions
        data["features"] = m.params.get("features", [])
        data["warnings"] = list(m.metrics.get("warnings") or [])
        if self._stale(m):
            data["warnings"].append(self._stale_message(m))
        unused = m.metrics.get("unused_names") or []
        if unused:
            data["warnings"].append(f"names not used (the model has fewer clusters): {', '.join(unused)}")
        return data

    def compare(self, name: str, as_of: AsOfLike = None) -> dict[str, Any]:
        """k-means vs GMM vs hierarchical on the model's features and one sample."""
        from cdp.models.compare import compare_algorithms

        when = self._as_of(as_of)
        with self.ws.store() as con:
            checked, defs = self._program(con)
            if name not in defs:
                raise NotFoundError("model", name, hint="`cdp model list` shows trained models")
            spec = self._spec(checked, name, defs[name])
            if spec.algorithm in ("churn", "clv"):
                raise ModelError("compare applies to clustering models", model=name)
            _, X = fetch_features(con, self._query_for(checked, name)(when.local), len(spec.features))
        result = compare_algorithms(X, spec)
        result["name"] = name
        return result

    # -- monitoring ---------------------------------------------------------------------
    def _max_age(self) -> int:
        try:
            return int(self.ws.config.rules.models.max_age_days)
        except (AttributeError, CDPError):
            return 180

    def _stale(self, m: registry.StoredModel) -> bool:
        now = datetime.now(UTC).replace(tzinfo=None)
        return now - m.trained_at > timedelta(days=self._max_age())

    def _stale_message(self, m: registry.StoredModel) -> str:
        now = datetime.now(UTC).replace(tzinfo=None)
        days = (now - m.trained_at).days
        return (f"model '{m.name}' was trained {days} days ago (more than {self._max_age()}): "
                f"run `cdp model train {m.name}`")

    def status_warnings(self, con: duckdb.DuckDBPyConnection | None) -> builtins.list[str]:
        """Warnings for `cdp status`: models older than ``[rules.models] max_age_days``.

        ``con`` is the caller's open store connection (None: open the store here).
        """
        if con is None:
            with self.ws.store() as own:
                models = registry.list_latest(own)
        else:
            models = registry.list_latest(con)
        return [self._stale_message(m) for m in models if self._stale(m)]
