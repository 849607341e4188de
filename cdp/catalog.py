"""The workspace as the rule language sees it: :class:`WorkspaceCatalog` implements
``dsl.catalog.Catalog`` over the store (customers/events columns), cdp.toml (declared
traits, purposes, RFM settings) and the model registry.

``dsl/`` imports nothing of ours; this module is the bridge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from cdp.workspace import Workspace

__all__ = ["BUILTIN_PURPOSES", "WorkspaceCatalog", "duckdb_kind"]

BUILTIN_PURPOSES = frozenset({"email_marketing", "sms_marketing", "call_marketing", "ads_targeting", "analytics"})

_CLUSTERING = {"kmeans", "gmm", "dbscan", "hierarchical"}
_SOFT = {"gmm"}
_OUTLIERS = {"dbscan", "isolation_forest"}
_PREDICTIVE = {"churn", "clv"}

_COLUMNS_SQL = {
    table: "SELECT column_name, data_type FROM information_schema.columns "
    f"WHERE table_name = '{table}' AND table_schema = 'main' ORDER BY ordinal_position"
    for table in ("customers", "events")
}

# keys of the events' JSON properties (asked only for a property name no column has)
_JSON_KEYS_SQL = (
    "SELECT DISTINCT k FROM (SELECT unnest(json_keys(properties)) AS k FROM events "
    "WHERE properties IS NOT NULL)"
)

# customers/events columns that are bookkeeping, not traits or properties a rule may use
_CUSTOMER_INTERNAL = {"customer_id", "first_seen_at", "updated_at"}
_EVENT_INTERNAL = {"event_id", "customer_id", "event_type", "ts", "source", "properties"}


def duckdb_kind(column_type: str) -> str:
    """A DuckDB column type as a dsl type (text/integer/number/date/timestamp/boolean), or "unknown"."""
    t = column_type.upper()
    if t in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
             "UBIGINT", "UHUGEINT"}:
        return "integer"
    if t.startswith(("DECIMAL", "NUMERIC")) or t in {"FLOAT", "REAL", "DOUBLE"}:
        return "number"
    if t in {"VARCHAR", "TEXT", "STRING", "UUID"} or t.startswith("VARCHAR"):
        return "text"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t == "BOOLEAN":
        return "boolean"
    return "unknown"


_TYPES = ("text", "integer", "number", "date", "timestamp", "boolean")


def _declared_type(spec: Any) -> str | None:
    """The type of a trait/property declaration (a type name or a FieldSpec)."""
    value = spec if isinstance(spec, str) else getattr(spec, "type", None)
    return value if value in _TYPES else None


class WorkspaceCatalog:
    """``dsl.catalog.Catalog`` for one workspace, read once per command.

    ``con`` is an open store connection (None in a workspace without a store yet: only
    the declared traits are known then). Traits declared in cdp.toml but not yet ingested
    (no ``customers`` column) count as known when ``declared`` (``cdp segment check``),
    and as unknown otherwise (a build needs the column): see :meth:`pending_traits`.
    """

    def __init__(self, ws: Workspace, con: duckdb.DuckDBPyConnection | None, *, declared: bool = True) -> None:
        self.ws = ws
        self.con = con
        self.declared = declared
        self._traits: dict[str, str] | None = None
        self._props: dict[str, str] | None = None
        self._event_types: set[str] | None = None
        self._json_keys: set[str] | None = None
        self._models: dict[str, Any] = {}

    # -- names and types --------------------------------------------------------------
    def _columns(self, table: str) -> dict[str, str]:
        if self.con is None:
            return {}
        # a fixed query per table, no bound parameter: binding one makes DuckDB import pandas
        # when it is installed, which costs `cdp segment check` most of its time budget
        sql = _COLUMNS_SQL[table]
        return {name: duckdb_kind(dtype) for name, dtype in self.con.execute(sql).fetchall()}

    def _declared(self, key: str, entity: str) -> dict[str, str]:
        """Declared traits or event properties (``key``) over every source of ``entity``."""
        out: dict[str, str] = {}
        for source in self.ws.config.sources.values():
            if getattr(source, "entity", entity) != entity:
                continue
            for name, spec in (getattr(source, key, None) or {}).items():
                kind = _declared_type(spec)
                if kind:
                    out.setdefault(str(name), kind)
        return out

    def trait_kinds(self) -> dict[str, str]:
        """Trait name -> kind: the store's customers columns win over declarations."""
        if self._traits is None:
            kinds = self._declared("traits", "customers") if self.declared or self.con is None else {}
            for name, kind in self._columns("customers").items():
                if name not in _CUSTOMER_INTERNAL and kind != "unknown":
                    kinds[name] = kind
            self._traits = kinds
        return self._traits

    def pending_traits(self) -> set[str]:
        """Traits declared in cdp.toml with no ``customers`` column yet (never ingested)."""
        return set(self._declared("traits", "customers")) - set(self._columns("customers"))

    def property_kinds(self) -> dict[str, str]:
        """Event property name -> kind: typed events columns plus ``amount``."""
        if self._props is None:
            kinds = self._declared("properties", "events")
            for name, kind in self._columns("events").items():
                if name not in _EVENT_INTERNAL and kind != "unknown":
                    kinds[name] = kind
            kinds["amount"] = "number"
            self._props = kinds
        return self._props

    def traits(self) -> dict[str, str]:
        return dict(self.trait_kinds())

    def event_properties(self) -> dict[str, str]:
        return dict(self.property_kinds())

    def event_json_keys(self) -> set[str] | None:
        """Keys found in the events' JSON ``properties`` (the optional catalog method).

        Ingestion keeps declared properties as typed columns, so a workspace without a store
        has no JSON keys yet (empty set: a misspelt property is an error). None (any name
        passes) only when the store cannot be asked.
        """
        if self.con is None:
            return set()
        if self._json_keys is None:
            import duckdb

            try:
                rows = self.con.execute(_JSON_KEYS_SQL).fetchall()
            except duckdb.Error:  # e.g. the JSON extension cannot load: do not block checks on it
                return None
            self._json_keys = {str(r[0]) for r in rows}
        return set(self._json_keys)

    def event_types(self) -> set[str] | None:
        """Event types seen in the store, the RFM event and ``[rules] event_types``.

        None (any name accepted) while the store holds no events at all.
        """
        if self.con is None:
            return None
        if self._event_types is None:
            self._event_types = {r[0] for r in self.con.execute("SELECT DISTINCT event_type FROM events").fetchall()}
        if not self._event_types:
            return None
        rules = self.ws.config.rules
        return self._event_types | {rules.rfm.event} | set(rules.event_types)

    # -- purposes ------------------------------------------------------------------------
    def purposes(self) -> set[str]:
        declared = getattr(self.ws.config.privacy, "purposes", None) or {}
        if not isinstance(declared, dict):
            declared = {str(p): None for p in declared}
        return set(BUILTIN_PURPOSES) | {str(k) for k in declared}

    def allowed_purposes(self, kind: str, name: str) -> set[str] | None:
        """Purposes a trait (kind "trait") or event property (kind "property"/"event") may serve.

        From ``[privacy] data_purposes``: key = trait name or ``events.<property>``;
        absent = None = any purpose (PRIVACY.md §2).
        """
        table = getattr(self.ws.config.privacy, "data_purposes", None) or {}
        key = name if kind in ("trait", "traits") else f"events.{name}"
        value = table.get(key) if isinstance(table, dict) else None
        if value is None:
            return None
        if isinstance(value, str):
            return {value}
        return {str(v) for v in value}

    # -- RFM -------------------------------------------------------------------------------
    def rfm_settings(self) -> Any:
        from dsl.catalog import RfmSettings

        cfg = self.ws.config.rules.rfm
        return RfmSettings(
            event=cfg.event,
            amount=cfg.amount,
            window=cfg.window,
            bins=cfg.bins,
            weights=(cfg.weights.r, cfg.weights.f, cfg.weights.m),
        )

    # -- models ----------------------------------------------------------------------------
    def _stored_model(self, name: str) -> Any:
        if name not in self._models:
            stored = None
            if self.con is not None:
                from cdp.models.registry import latest

                stored = latest(self.con, name)
            self._models[name] = stored
        return self._models[name]

    def model(self, name: str) -> Any:
        """The dsl's ModelInfo of the latest trained version, or None when untrained."""
        from dsl.catalog import ModelInfo

        stored = self._stored_model(name)
        if stored is None:
            return None
        from cdp.models.sql import cluster_names

        algo = stored.algorithm
        names = tuple(cluster_names(stored)) if algo in _CLUSTERING else None
        return ModelInfo(
            name=stored.name,
            algorithm=algo,
            version=int(stored.version),
            features_hash=stored.features_hash or "",
            cluster_names=names or None,
            soft=algo in _SOFT,
            outliers=algo in _OUTLIERS,
            predictive=algo in _PREDICTIVE,
        )

    def model_expression(self, name: str, kind: str, features: Any, arg: Any, dialect: str) -> Any:
        stored = self._stored_model(name)
        if stored is None:
            from cdp.errors import ModelError

            raise ModelError("not trained", model=name, hint=f"run `cdp model train {name}`")
        from cdp.models.sql import score_expression

        return score_expression(stored, kind, features, arg, dialect)
