"""Semantic checks on the AST, before any SQL exists: names, types, cycles, purposes, models.

:func:`check` raises the first :class:`RuleCheckError`; :func:`check_all` returns every
error (one per definition at most) for ``cdp segment check``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cdp.errors import RuleCheckError, RuleError
from dsl import ast
from dsl.catalog import Catalog, event_json_keys
from dsl.load import Program
from dsl.models import build_model_def, model_features
from dsl.suggest import closest

__all__ = ["CHANNELS", "PURPOSE_CHANNEL", "CheckedProgram", "check", "check_all"]

CHANNELS = ("email", "sms", "call", "ads", "any")
PURPOSE_CHANNEL = {"email_marketing": "email", "sms_marketing": "sms", "call_marketing": "call", "ads_targeting": "ads"}
SOFT = ("gmm",)
OUTLIERS = ("dbscan", "isolation_forest")
PREDICTIVE = ("churn", "clv")
_ORDERED = ("number", "date", "timestamp", "text", "any")
_TOP_LEVEL = ("include", "let", "metric", "model", "segment")


@dataclass
class CheckedProgram:
    """A program that passed the checks, with its symbol tables."""

    program: Program
    catalog: Catalog
    lets: dict[str, ast.Let] = field(default_factory=dict)
    metrics: dict[str, ast.Metric] = field(default_factory=dict)
    models: dict[str, ast.Model] = field(default_factory=dict)
    segments: dict[str, ast.Segment] = field(default_factory=dict)
    depends_on: dict[str, tuple[str, ...]] = field(default_factory=dict)
    was_in: dict[str, tuple[str, ...]] = field(default_factory=dict)
    models_used: dict[str, tuple[str, ...]] = field(default_factory=dict)
    metric_types: dict[str, str] = field(default_factory=dict)

    def segment(self, name: str) -> ast.Segment:
        from cdp.errors import NotFoundError

        if name not in self.segments:
            raise NotFoundError("segment", name, suggestion=closest(name, self.segments))
        return self.segments[name]


@dataclass(frozen=True)
class _At:
    """A bare location to point an error at."""

    loc: Any


class _Poisoned(Exception):
    """A definition this one uses already has an error; report only the first."""


def _norm(t: str) -> str:
    return "number" if t == "integer" else t


class _Checker:
    def __init__(self, prog: Program, catalog: Catalog) -> None:
        self.prog = prog
        self.cat = catalog
        self.out = CheckedProgram(prog, catalog)
        self.errors: list[RuleError] = []
        self.traits = {k: _norm(v) for k, v in catalog.traits().items()}
        self.props = {k: _norm(v) for k, v in catalog.event_properties().items()}
        self.event_types = catalog.event_types()
        self._json_keys: set[str] | None = None
        self._json_keys_read = False
        self.failed: set[str] = set()
        self.metric_stack: list[str] = []
        # per-definition accumulators
        self.uses: set[tuple[str, str]] = set()  # (kind, name) of traits/properties used
        self.seg_deps: set[str] = set()
        self.seg_was: set[str] = set()
        self.seg_models: set[str] = set()
        self.metric_uses: dict[str, frozenset[tuple[str, str]]] = {}

    # -- errors -------------------------------------------------------------------
    def error(self, node: Any, message: str, **kw: Any) -> RuleCheckError:
        loc = getattr(node, "loc", None)
        return RuleCheckError(message, location=loc, source_line=self.prog.source_line(loc), **kw)

    # -- driver -------------------------------------------------------------------
    def run(self) -> None:
        o = self.out
        for d in self.prog.definitions:
            table = {ast.Let: o.lets, ast.Metric: o.metrics, ast.Model: o.models, ast.Segment: o.segments}
            table[type(d)][d.name] = d  # type: ignore[index]
        for d in self.prog.definitions:
            try:
                if isinstance(d, ast.Metric):
                    self.metric_type(d.name, d)
                elif isinstance(d, ast.Model):
                    self.check_model(d)
                elif isinstance(d, ast.Segment):
                    self.check_segment(d)
            except _Poisoned:
                pass
            except RuleError as err:
                self.failed.add(d.name)
                self.errors.append(err)
        if not self.errors:
            self.check_segment_cycles()

    # -- definitions --------------------------------------------------------------
    def metric_type(self, name: str, at: Any) -> str:
        o = self.out
        if name in o.metric_types:
            self.uses |= self.metric_uses[name]
            return o.metric_types[name]
        if name in self.failed:
            raise _Poisoned()
        if name in self.metric_stack:
            chain = " -> ".join(self.metric_stack[self.metric_stack.index(name):] + [name])
            raise self.error(at, f"metric cycle: {chain}", name=name)
        outer = self.uses
        self.uses = set()
        self.metric_stack.append(name)
        try:
            t = self.value(o.metrics[name].value, "customer")
        except RuleError:
            self.failed.add(name)
            raise
        finally:
            self.metric_stack.pop()
            inner, self.uses = self.uses, outer
        self.metric_uses[name] = frozenset(inner)
        self.uses |= inner
        o.metric_types[name] = t
        return t

    def check_model(self, m: ast.Model) -> None:
        if m.options.k is not None and m.options.k < 1:
            raise self.error(m, "k must be at least 1", name=m.name)
        if m.options.k_auto is not None and not 1 < m.options.k_auto[0] <= m.options.k_auto[1]:
            raise self.error(m, "k auto(a..b) needs 2 <= a <= b", name=m.name)
        if m.algorithm == "churn" and self.event_types is not None and m.event not in self.event_types:
            raise self.error(m, f"unknown event '{m.event}'", name=m.event, suggestion=closest(m.event or "", self.event_types))
        feats = model_features(m)
        for f in feats:
            t = self.value(f, "customer")
            if t not in ("number", "any"):
                raise self.error(f, f"model feature must be a number, not {t}", name=m.name)
        names = [build_model_def(m, self.out.lets, self.out.metrics).features][0]
        if m.options.names_by is not None and m.options.names_by not in names:
            raise self.error(
                m, f"'names by {m.options.names_by}' is not one of the model's features",
                name=m.options.names_by, suggestion=closest(m.options.names_by, names),
            )
        if m.options.names is not None and m.algorithm not in ast.CLUSTERING:
            raise self.error(m, f"{m.algorithm} makes no clusters to name", name=m.name)

    def check_segment(self, s: ast.Segment) -> None:
        self.uses, self.seg_deps, self.seg_was, self.seg_models = set(), set(), set(), set()
        known = self.cat.purposes()
        for p in s.purposes:
            if p not in known:
                at = _At(s.loc_of(f"purpose:{p}"))
                raise self.error(at, f"unknown purpose '{p}'", name=p, suggestion=closest(p, known))
        if s.holdout is not None and not Decimal(0) < s.holdout < Decimal(100):
            raise self.error(
                _At(s.loc_of("holdout")), f"holdout {s.holdout}% is out of range", name=s.name,
                expected="a percentage above 0 and below 100",
            )
        t = self.value(s.where, "customer")
        if t != "boolean":
            raise self.error(s.where, f"'where' needs a condition, not a {t} value", expected="a condition")
        self.out.depends_on[s.name] = tuple(sorted(self.seg_deps))
        self.out.was_in[s.name] = tuple(sorted(self.seg_was))
        self.out.models_used[s.name] = tuple(sorted(self.seg_models))
        self.segment_uses = getattr(self, "segment_uses", {})
        self.segment_uses[s.name] = (frozenset(self.uses), s)

    def check_segment_cycles(self) -> None:
        deps = self.out.depends_on
        state: dict[str, int] = {}

        def visit(n: str, path: list[str]) -> None:
            if state.get(n) == 2:
                return
            if state.get(n) == 1:
                chain = " -> ".join(path[path.index(n):] + [n])
                seg = self.out.segments[path[-1]]
                raise self.error(seg, f"segment cycle through 'in segment': {chain}", name=n)
            state[n] = 1
            for d in deps.get(n, ()):
                visit(d, path + [n])
            state[n] = 2

        try:
            for name in deps:
                visit(name, [])
            self.check_purposes()
        except RuleError as err:
            self.errors.append(err)

    def check_purposes(self) -> None:
        """A segment may use only traits/properties allowed for all its purposes (deps included)."""
        uses = getattr(self, "segment_uses", {})

        def all_uses(name: str, seen: set[str]) -> set[tuple[str, str]]:
            if name in seen or name not in uses:
                return set()
            seen.add(name)
            out = set(uses[name][0])
            for d in self.out.depends_on.get(name, ()):
                out |= all_uses(d, seen)
            return out

        for name, (_, seg) in uses.items():
            if not seg.purposes:
                continue
            for kind, what in sorted(all_uses(name, set())):
                allowed = self.cat.allowed_purposes(kind, what)
                if allowed is None:
                    continue
                for p in seg.purposes:
                    if p not in allowed:
                        raise self.error(
                            seg, f"segment '{name}' has purpose '{p}' but {kind} '{what}' may not serve it",
                            name=what, hint=f"{kind} '{what}' may serve: {', '.join(sorted(allowed)) or 'nothing'}",
                        )

    # -- values -------------------------------------------------------------------
    def value(self, e: Any, ctx: str) -> str:
        if isinstance(e, ast.Number):
            return "number"
        if isinstance(e, ast.String):
            return "text"
        if isinstance(e, ast.DateLit):
            return "date"
        if isinstance(e, ast.Bool):
            return "boolean"
        if isinstance(e, ast.Null):
            return "null"
        if isinstance(e, ast.Name):
            return self.name(e, ctx)
        if isinstance(e, ast.Aggregate):
            return self.aggregate(e, ctx)
        if isinstance(e, ast.DaysSince):
            self.customer_only(e, ctx, "days_since")
            if e.which == "trait":
                t = self.trait(e, e.target)
                if t not in ("date", "timestamp"):
                    raise self.error(e, f"days_since needs a date trait; '{e.target}' is {t}", name=e.target)
            else:
                self.event_type(_At(e.target_loc or e.loc), e.target)
            return "number"
        if isinstance(e, ast.Rfm):
            self.customer_only(e, ctx, "rfm")
            rs = self.cat.rfm_settings()
            self.uses.add(("property", rs.amount))
            return "text" if e.field in ("score", "segment") else "number"
        if isinstance(e, ast.ModelCall):
            self.customer_only(e, ctx, e.kind)
            return self.model_call(e)
        if isinstance(e, ast.Neg):
            self.numeric(e.operand, self.value(e.operand, ctx), "'-'")
            return "number"
        if isinstance(e, ast.BinOp):
            self.numeric(e.left, self.value(e.left, ctx), f"'{e.op}'")
            self.numeric(e.right, self.value(e.right, ctx), f"'{e.op}'")
            return "number"
        if isinstance(e, ast.Compare):
            left, right = self.value(e.left, ctx), self.value(e.right, ctx)
            self.comparable(e, left, right, e.right)
            self.cluster_literal(e.left, e.right)
            self.cluster_literal(e.right, e.left)
            if e.op not in ("=", "!=") and "boolean" in (left, right):
                raise self.error(e, f"'{e.op}' does not apply to true/false values")
            return "boolean"
        if isinstance(e, ast.InList):
            t = self.value(e.value, ctx)
            for item in e.items:
                self.comparable(item, t, self.value(item, ctx), item)
                self.cluster_literal(e.value, item)
            return "boolean"
        if isinstance(e, ast.Between):
            t = self.value(e.value, ctx)
            if t not in ("number", "date", "timestamp", "any", "text"):
                raise self.error(e, f"'between' needs numbers or dates, not {t}")
            self.comparable(e.low, t, self.value(e.low, ctx), e.low)
            self.comparable(e.high, t, self.value(e.high, ctx), e.high)
            return "boolean"
        if isinstance(e, ast.IsNull):
            self.value(e.value, ctx)
            return "boolean"
        if isinstance(e, ast.TextMatch):
            t = self.value(e.value, ctx)
            if t not in ("text", "any"):
                raise self.error(e.value, f"'{e.op.replace('_', ' ')}' needs a text value, not {t}", expected="a text trait or property")
            p = e.pattern
            if isinstance(p, ast.Name) and p.name in self.out.lets:
                p = self.out.lets[p.name].value
            if not isinstance(p, ast.String):
                raise self.error(e.pattern, f"'{e.op.replace('_', ' ')}' needs a string in quotes", expected='a string like "x"')
            return "boolean"
        if isinstance(e, ast.TopN):
            self.customer_only(e, ctx, "in top/bottom")
            t = self.value(e.value, ctx)
            if t not in ("number", "date", "timestamp", "any"):
                raise self.error(e.value, f"'in {'top' if e.top else 'bottom'}' needs a number, not {t}")
            if not Decimal(0) < e.pct <= Decimal(100):
                raise self.error(e, f"{e.pct}% is out of range", expected="a percentage above 0 and at most 100")
            return "boolean"
        if isinstance(e, (ast.InSegment, ast.WasInSegment)):
            self.customer_only(e, ctx, "in segment")
            if e.segment not in self.out.segments:
                raise self.error(e, f"unknown segment '{e.segment}'", name=e.segment, suggestion=closest(e.segment, self.out.segments))
            (self.seg_deps if isinstance(e, ast.InSegment) else self.seg_was).add(e.segment)
            return "boolean"
        if isinstance(e, ast.Consented):
            self.customer_only(e, ctx, "consented to")
            known = self.cat.purposes()
            if e.purpose not in known:
                raise self.error(e, f"unknown purpose '{e.purpose}'", name=e.purpose, suggestion=closest(e.purpose, known))
            if e.channel is not None and e.channel not in CHANNELS:
                raise self.error(_At(e.channel_loc or e.loc), f"unknown channel '{e.channel}'", name=e.channel, suggestion=closest(e.channel, CHANNELS), expected=", ".join(CHANNELS))
            return "boolean"
        if isinstance(e, ast.Not):
            self.boolean(e.operand, self.value(e.operand, ctx), "'not'")
            return "boolean"
        if isinstance(e, (ast.And, ast.Or)):
            word = "'and'" if isinstance(e, ast.And) else "'or'"
            self.boolean(e.left, self.value(e.left, ctx), word)
            self.boolean(e.right, self.value(e.right, ctx), word)
            return "boolean"
        raise self.error(e, f"unsupported expression {type(e).__name__}")

    def customer_only(self, e: Any, ctx: str, what: str) -> None:
        if ctx == "event":
            raise self.error(e, f"'{what}' cannot be used inside an aggregate's 'where' (it filters events)")

    def numeric(self, node: Any, t: str, op: str) -> None:
        if t not in ("number", "any"):
            raise self.error(node, f"{op} needs numbers, not {t}", expected="a number")

    def boolean(self, node: Any, t: str, op: str) -> None:
        if t != "boolean":
            raise self.error(node, f"{op} needs a condition, not a {t} value", expected="a condition")

    def comparable(self, node: Any, a: str, b: str, other: Any) -> None:
        if "null" in (a, b):
            raise self.error(node, "a comparison with null is never true", expected="'is null' or 'is not null'")
        if "any" in (a, b) or a == b:
            return
        if {a, b} <= {"date", "timestamp"}:
            return
        raise self.error(node, f"cannot compare {a} with {b}", expected=f"a {a} value")

    def name(self, e: ast.Name, ctx: str) -> str:
        o = self.out
        if e.name in o.lets:
            return self.value(o.lets[e.name].value, ctx)
        if ctx == "event":
            if e.name in self.props:
                self.uses.add(("property", e.name))
                return self.props[e.name]
            if e.name in o.metrics or e.name in self.traits:
                raise self.error(e, f"'{e.name}' is a customer value; an aggregate's 'where' may use only event properties", name=e.name)
            return self.event_property(e, e.name)
        if e.name in o.metrics:
            return self.metric_type(e.name, e)
        if e.name in self.traits:
            self.uses.add(("trait", e.name))
            return self.traits[e.name]
        if e.name in o.segments or e.name in o.models:
            kind = "segment" if e.name in o.segments else "model"
            raise self.error(e, f"'{e.name}' is a {kind}, not a value", name=e.name)
        pool = [*o.lets, *o.metrics, *self.traits]
        near = closest(e.name, pool)
        kind = "metric" if near in o.metrics else "trait" if near in self.traits else "trait or metric"
        hint = None
        if e.name.lower() in _TOP_LEVEL:
            hint = f"if '{e.name}' starts the next definition, a value is missing before it"
        raise self.error(e, f"unknown {kind} '{e.name}'", name=e.name, suggestion=near, hint=hint)

    def trait(self, node: Any, name: str) -> str:
        if name not in self.traits:
            raise self.error(node, f"unknown trait '{name}'", name=name, suggestion=closest(name, self.traits))
        self.uses.add(("trait", name))
        return self.traits[name]

    def json_keys(self) -> set[str] | None:
        """Keys of the events' JSON properties (asked once, and only for a name no column has)."""
        if not self._json_keys_read:
            self._json_keys = event_json_keys(self.cat)
            self._json_keys_read = True
        return self._json_keys

    def event_property(self, node: Any, name: str) -> str:
        """The type of an event property: a typed events column, else a key of the JSON properties.

        A name that is neither is an error when the catalog knows the JSON keys (an empty set
        included); a catalog that cannot tell (None) lets it through as a JSON key.
        """
        self.uses.add(("property", name))
        if name in self.props:
            return self.props[name]
        keys = self.json_keys()
        if keys is None or name in keys:
            return "any"
        known = sorted({*self.props, *keys})
        raise self.error(
            node, f"unknown event property '{name}'", name=name, suggestion=closest(name, known),
            hint=f"known event properties: {', '.join(known)}" if 0 < len(known) <= 12 else None,
        )

    def event_type(self, node: Any, name: str) -> None:
        if self.event_types is not None and name not in self.event_types:
            raise self.error(node, f"unknown event '{name}'", name=name, suggestion=closest(name, self.event_types))

    def aggregate(self, e: ast.Aggregate, ctx: str) -> str:
        self.customer_only(e, ctx, e.func)
        self.event_type(_At(e.event_loc or e.loc), e.event)
        pt = "any"
        if e.prop is not None:
            pt = self.event_property(_At(e.prop_loc or e.loc), e.prop)
        elif e.func not in ("count",):
            raise self.error(e, f"{e.func} needs a property: {e.func}({e.event}.PROPERTY)", expected=f"{e.event}.PROPERTY")
        if e.func in ("sum", "avg") and pt not in ("number", "any"):
            raise self.error(e, f"{e.func} needs a number property; '{e.prop}' is {pt}", name=e.prop)
        if e.where is not None:
            self.boolean(e.where, self.value(e.where, "event"), "'where'")
        if e.func in ("count", "count_distinct", "sum", "avg"):
            return "number"
        return pt

    def model_call(self, e: ast.ModelCall) -> str:
        o = self.out
        m = o.models.get(e.model)
        if m is None:
            raise self.error(e, f"unknown model '{e.model}'", name=e.model, suggestion=closest(e.model, o.models))
        allowed = {"cluster": ast.CLUSTERING, "probability": SOFT, "is_outlier": OUTLIERS, "score": PREDICTIVE}[e.kind]
        if m.algorithm not in allowed:
            raise self.error(
                e, f"{e.kind}() does not apply to {m.algorithm} model '{e.model}'", name=e.model,
                expected=f"a model of: {', '.join(allowed)}",
            )
        if e.model in self.failed:
            raise _Poisoned()
        self.seg_models.add(e.model)
        for f in model_features(m):
            self.value(f, "customer")  # purpose limitation follows the features
        info = self.cat.model(e.model)
        if info is None:
            raise self.error(e, f"model '{e.model}' is not trained", name=e.model, hint=f"run `cdp model train {e.model}`")
        want = build_model_def(m, o.lets, o.metrics).features_hash
        if info.features_hash != want:
            raise self.error(
                e, f"model '{e.model}' was trained on other feature definitions", name=e.model,
                hint=f"run `cdp model train {e.model}`",
            )
        if e.kind == "probability":
            self.cluster_name(e, m, e.arg or "")
            return "number"
        if e.kind == "is_outlier":
            return "boolean"
        if e.kind == "score":
            return "number"
        return "text" if (info.cluster_names or m.options.names) else "number"

    def cluster_names(self, model: str) -> tuple[str, ...] | None:
        info = self.cat.model(model)
        if info is not None and info.cluster_names is not None:
            return info.cluster_names
        return self.out.models[model].options.names

    def cluster_name(self, at: Any, m: ast.Model, name: str) -> None:
        names = self.cluster_names(m.name)
        if names is not None and name not in names:
            raise self.error(at, f"model '{m.name}' has no cluster '{name}'", name=name, suggestion=closest(name, names))

    def cluster_literal(self, side: Any, other: Any) -> None:
        if isinstance(side, ast.ModelCall) and side.kind == "cluster" and isinstance(other, ast.String):
            self.cluster_name(other, self.out.models[side.model], other.value)


def check_all(prog: Program, catalog: Catalog) -> list[RuleError]:
    """Every error of the program (the first per definition), in file order."""
    checker = _Checker(prog, catalog)
    checker.run()
    return checker.errors


def check(prog: Program, catalog: Catalog) -> CheckedProgram:
    """The checked program, or the first :class:`RuleCheckError`."""
    checker = _Checker(prog, catalog)
    checker.run()
    if checker.errors:
        raise checker.errors[0]
    return checker.out
