"""AST to canonical text: ``loads(format_program(p)) == p``.

Parentheses are printed only where precedence needs them; keywords are lower case;
a segment's top-level ``and`` conditions go one per line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dsl import ast

__all__ = ["format_expr", "format_items", "format_number"]

# precedence, loosest first (DSL.md "Conditions")
_OR, _AND, _NOT, _PRED, _ADD, _MUL, _NEG, _ATOM = range(1, 9)
_PREDICATES = (
    ast.Compare, ast.InList, ast.Between, ast.IsNull, ast.TextMatch, ast.TopN,
    ast.InSegment, ast.WasInSegment, ast.Consented,
)


def format_number(value: Decimal) -> str:
    text = format(value, "f")
    return text


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" + ("" if n == 1 else "s")


def _prec(node: Any) -> int:
    if isinstance(node, ast.Or):
        return _OR
    if isinstance(node, ast.And):
        return _AND
    if isinstance(node, ast.Not):
        return _NOT
    if isinstance(node, _PREDICATES):
        return _PRED
    if isinstance(node, ast.BinOp):
        return _ADD if node.op in "+-" else _MUL
    if isinstance(node, ast.Neg):
        return _NEG
    return _ATOM


def _sub(node: Any, minimum: int) -> str:
    text = format_expr(node)
    return f"({text})" if _prec(node) < minimum else text


def _window(w: ast.Window | None) -> str:
    if w is None:
        return ""
    if isinstance(w, ast.Last):
        return f" over last {_plural(w.n, w.unit)}"
    if isinstance(w, ast.DateRange):
        return f" from {w.start.isoformat()} to {w.end.isoformat()}"
    return f" since {w.start.isoformat()}"


def format_expr(node: Any) -> str:
    """The canonical text of a value or condition."""
    if isinstance(node, ast.Number):
        return format_number(node.value)
    if isinstance(node, ast.String):
        return _string(node.value)
    if isinstance(node, ast.DateLit):
        return node.value.isoformat()
    if isinstance(node, ast.Bool):
        return "true" if node.value else "false"
    if isinstance(node, ast.Null):
        return "null"
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Aggregate):
        target = node.event + (f".{node.prop}" if node.prop else "")
        where = f" where {format_expr(node.where)}" if node.where is not None else ""
        return f"{node.func}({target}{where}){_window(node.window)}"
    if isinstance(node, ast.DaysSince):
        inner = node.target if node.which == "trait" else f"{node.which} {node.target}"
        return f"days_since({inner})"
    if isinstance(node, ast.Rfm):
        return f"rfm.{node.field}"
    if isinstance(node, ast.ModelCall):
        arg = f", {_string(node.arg)}" if node.arg is not None else ""
        return f"{node.kind}({node.model}{arg})"
    if isinstance(node, ast.Neg):
        return "-" + _sub(node.operand, _NEG)
    if isinstance(node, ast.BinOp):
        own = _prec(node)
        return f"{_sub(node.left, own)} {node.op} {_sub(node.right, own + 1)}"
    if isinstance(node, ast.Compare):
        return f"{_sub(node.left, _ADD)} {node.op} {_sub(node.right, _ADD)}"
    if isinstance(node, ast.InList):
        items = ", ".join(_sub(i, _ADD) for i in node.items)
        return f"{_sub(node.value, _ADD)} {'not in' if node.negated else 'in'} ({items})"
    if isinstance(node, ast.Between):
        kw = "not between" if node.negated else "between"
        return f"{_sub(node.value, _ADD)} {kw} {_sub(node.low, _ADD)} and {_sub(node.high, _ADD)}"
    if isinstance(node, ast.IsNull):
        return f"{_sub(node.value, _ADD)} is {'not null' if node.negated else 'null'}"
    if isinstance(node, ast.TextMatch):
        op = {"starts_with": "starts with", "ends_with": "ends with"}.get(node.op, node.op)
        return f"{_sub(node.value, _ADD)} {op} {_sub(node.pattern, _ADD)}"
    if isinstance(node, ast.TopN):
        return f"{_sub(node.value, _ADD)} in {'top' if node.top else 'bottom'} {format_number(node.pct)}%"
    if isinstance(node, ast.InSegment):
        return f"in segment {node.segment}"
    if isinstance(node, ast.WasInSegment):
        return f"was in segment {node.segment} {_plural(node.days, 'day')} ago"
    if isinstance(node, ast.Consented):
        via = f" via {node.channel}" if node.channel else ""
        return f"consented to {node.purpose}{via}"
    if isinstance(node, ast.Not):
        return "not " + _sub(node.operand, _NOT)
    if isinstance(node, ast.And):
        return f"{_sub(node.left, _AND)} and {_sub(node.right, _AND + 1)}"
    if isinstance(node, ast.Or):
        return f"{_sub(node.left, _OR)} or {_sub(node.right, _OR + 1)}"
    raise TypeError(f"not an expression node: {type(node).__name__}")


def conjuncts(node: Any) -> list[Any]:
    """The top-level ``and`` operands of a condition, in order."""
    if isinstance(node, ast.And):
        return conjuncts(node.left) + [node.right]
    return [node]


def _model(m: ast.Model) -> str:
    args: list[str] = []
    if m.event is not None:
        args.append(m.event)
    if m.horizon is not None:
        args.append(f"horizon {_plural(m.horizon.n, m.horizon.unit)}")
    args += [format_expr(f) for f in m.features]
    lines = [f"model {m.name} = {m.algorithm}({', '.join(args)})"]
    o = m.options
    if o.k is not None:
        lines.append(f"k {o.k}")
    if o.k_auto is not None:
        lines.append(f"k auto({o.k_auto[0]}..{o.k_auto[1]})")
    if o.scale is not None:
        lines.append(f"scale {o.scale}")
    if o.transform is not None:
        lines.append(f"transform {o.transform}")
    if o.seed is not None:
        lines.append(f"seed {o.seed}")
    if o.eps is not None:
        lines.append(f"eps {format_number(o.eps)}")
    if o.min_samples is not None:
        lines.append(f"min_samples {o.min_samples}")
    if o.names_by is not None:
        names = ", ".join(_string(n) for n in o.names or ())
        lines.append(f"names by {o.names_by} {o.names_order} ({names})")
    return "\n    ".join(lines)


def _segment(s: ast.Segment) -> str:
    head = f"segment {s.name}" + (f" {_string(s.label)}" if s.label is not None else "") + ":"
    lines = [head]
    if s.description is not None:
        lines.append(f"    description {_string(s.description)}")
    if s.purposes:
        lines.append(f"    purpose {', '.join(s.purposes)}")
    parts = conjuncts(s.where)
    where = "\n      and ".join(_sub(p, _AND + 1) if i else _sub(p, _AND) for i, p in enumerate(parts))
    lines.append(f"    where {where}")
    if s.holdout is not None:
        lines.append(f"    holdout {format_number(s.holdout)}%")
    return "\n".join(lines)


def format_item(item: Any) -> str:
    if isinstance(item, ast.Include):
        return f"include {_string(item.path)}"
    if isinstance(item, ast.Let):
        return f"let {item.name} = {format_expr(item.value)}"
    if isinstance(item, ast.Metric):
        return f"metric {item.name} = {format_expr(item.value)}"
    if isinstance(item, ast.Model):
        return _model(item)
    if isinstance(item, ast.Segment):
        return _segment(item)
    raise TypeError(f"not a top-level item: {type(item).__name__}")


def format_items(items: Any) -> str:
    """Canonical text of a sequence of top-level items."""
    out: list[str] = []
    prev: Any = None
    for item in items:
        text = format_item(item)
        if prev is not None:
            same_kind = type(prev) is type(item) and not isinstance(item, (ast.Segment, ast.Model))
            out.append("\n" if same_kind else "\n\n")
        out.append(text)
        prev = item
    return "".join(out) + ("\n" if out else "")
