"""Text to AST: the Lark LALR parser (built once) and a Transformer to :mod:`dsl.ast` nodes.

Lark errors never leave this module: they become :class:`RuleSyntaxError` with the
location, the source line and what was expected.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
import unicodedata
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import lark
from lark import Token, Transformer, v_args

from cdp.errors import Location, RuleError, RuleSyntaxError
from dsl import ast
from dsl.suggest import closest

__all__ = ["parse_text", "source_line"]

_GRAMMAR = Path(__file__).with_name("grammar.lark")

_TERMINAL_NAMES = {
    "NAME": "a name",
    "STRING": "a string",
    "DATE": "a date",
    "NUMBER": "a number",
    "INT": "a number",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "COLON": "':'",
    "DOT": "'.'",
    "PERCENT": "'%'",
    "EQ": "'='",
    "NE": "'!='",
    "LT": "'<'",
    "LE": "'<='",
    "GT": "'>'",
    "GE": "'>='",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "MATCH": "'contains'",
    "TOPBOTTOM": "'top' or 'bottom'",
    "AGG": "an aggregate (count, sum, ...)",
    "MLFUNC": "a model function",
    "FIRSTLAST": "'first' or 'last'",
    "UNIT": "a unit (days, weeks, months, years)",
    "ORDER": "'asc' or 'desc'",
    "TRUE": "'true'",
    "FALSE": "'false'",
    "NOT": "'not'",
    "NULL": "'null'",
    "$END": "end of file",
}


@lru_cache(maxsize=1)
def _parser() -> tuple[lark.Lark, _ToAst]:
    """The LALR parser, built once per process, with the AST transformer inlined (no tree)."""
    transformer = _ToAst("<string>")
    parser = lark.Lark(
        _GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        maybe_placeholders=True,
        transformer=transformer,
        lexer_callbacks={"NAME": _note_keyword_name},
    )
    return parser, transformer


_LOCK = threading.Lock()

# A top-level keyword is a keyword only where a new definition may start (contextual
# lexer): elsewhere `segment` can be a trait. When a definition is left incomplete, the
# next definition's keyword is read as a name; these names are noted (per parse, under
# _LOCK) so that the error can say what is missing instead of "unexpected 't'".
_TOP_LEVEL = ("include", "let", "metric", "model", "segment")
_TOP_LEVEL_TERMINALS = {"_INCLUDE", "_LET", "_METRIC", "_MODEL", "_SEGMENT"}
_VALUE_TERMINALS = {"NAME", "NUMBER", "INT", "STRING", "DATE", "AGG", "MLFUNC", "_DAYS_SINCE", "_RFM"}
_GAP = re.compile(r"(?:\s|#[^\n]*)*")
_keyword_names: list[Token] = []


def _note_keyword_name(tok: Token) -> Token:
    """Lexer callback on NAME: remember names spelt like a top-level keyword."""
    if str(tok).lower() in _TOP_LEVEL:
        _keyword_names.append(tok)
    return tok


def source_line(text: str, line: int) -> str | None:
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else None


def _describe(terminal: str) -> str:
    if terminal in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[terminal]
    if terminal.startswith("__ANON"):
        return "a token"
    return "'" + terminal.lstrip("_").lower() + "'"


def _expected(names: set[str] | frozenset[str] | None) -> str | None:
    if not names:
        return None
    # kinds of token ("a name", "a number", ...) first: cut at 8, they say the most
    described = sorted({_describe(n) for n in names}, key=lambda d: (d.startswith("'"), d))
    if len(described) > 8:
        described = described[:8] + ["..."]
    return ", ".join(described)


def parse_text(text: str, file: str = "<string>") -> tuple[ast.Item, ...]:
    """Parse one rule file into its top-level items (includes are not followed here)."""
    parser, transformer = _parser()
    keyword_names: list[Token] = []
    try:
        with _LOCK:
            transformer.file = file
            _keyword_names.clear()
            try:
                items: Any = parser.parse(text)
            finally:
                keyword_names = list(_keyword_names)
    except lark.exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, RuleError):
            raise _with_line(exc.orig_exc, text) from None
        raise
    except lark.exceptions.UnexpectedCharacters as exc:
        loc = Location(file, exc.line, exc.column)
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        message, hint = f"unexpected character {char!r}", None  # type: str, str | None
        if char == '"':
            message, hint = "a string is not closed on this line", 'end it with " (write \\" for a quote inside)'
        elif char in "&|":
            message, hint = f"unexpected character {char!r}", "write 'and' / 'or'"
        raise RuleSyntaxError(
            message,
            location=loc,
            source_line=source_line(text, exc.line),
            expected=_expected(exc.allowed),
            hint=hint,
        ) from None
    except lark.exceptions.UnexpectedToken as exc:
        tok = exc.token
        starter = _definition_start(text, tok, keyword_names)
        if starter is not None:
            raise _incomplete_before(text, file, starter) from None
        if tok.type == "$END":
            line = max(text.count("\n") + (0 if text.endswith("\n") else 1), 1)
            last = source_line(text, line) or ""
            loc = Location(file, line, len(last) + 1)
            what = "unexpected end of file"
        else:
            loc = Location(file, tok.line or 1, tok.column or 1)
            what = f"unexpected '{tok}'"
        hint = None
        suggestion: str | None = None
        expected = _expected(exc.expected)
        at = tok.start_pos if tok.type != "$END" else None
        if at is not None and tok.type == "EQ" and at > 0 and text[at - 1] == "=":
            hint = "compare with a single '='"
        elif at is not None and tok.type == "LPAR" and _FUNC_BEFORE.search(text[:at]):
            name = _FUNC_BEFORE.search(text[:at]).group(1)  # type: ignore[union-attr]
            what = f"unknown function '{name}'"
            loc = Location(file, tok.line or 1, max((tok.column or 1) - len(name), 1))
            suggestion = closest(name, _FUNCTIONS)
            expected = None
        elif tok.type == "NAME":
            keywords = [_describe(n).strip("'") for n in exc.expected if n.startswith("_") or n.isupper()]
            suggestion = closest(str(tok), [k for k in keywords if k.replace(" ", "").isalpha()])
            suggestion = suggestion if suggestion and suggestion != str(tok) else None
        raise RuleSyntaxError(
            what,
            location=loc,
            source_line=source_line(text, loc.line),
            expected=expected,
            suggestion=suggestion,
            hint=hint,
        ) from None
    except lark.exceptions.UnexpectedEOF as exc:
        line = max(text.count("\n") + 1, 1)
        raise RuleSyntaxError(
            "unexpected end of file",
            location=Location(file, line, len(source_line(text, line) or "") + 1),
            source_line=source_line(text, line),
            expected=_expected(set(exc.expected)),
        ) from None
    except RuleError as exc:
        raise _with_line(exc, text) from None
    return tuple(items)


def _first_on_line(text: str, pos: int) -> bool:
    return not text[text.rfind("\n", 0, pos) + 1 : pos].strip()


def _definition_start(text: str, tok: Token, keyword_names: list[Token]) -> Token | None:
    """The top-level keyword that starts a new definition before an incomplete one ended.

    Either the parser stopped at the keyword itself, or the keyword was read as a name (a
    value) and the parser stopped right after it (``credit >=`` then ``segment t``). Only a
    keyword first on its line counts: definitions start on their own line, while a trait
    called ``segment`` is written after something.
    """
    if tok.type in _TOP_LEVEL_TERMINALS:
        return tok if _first_on_line(text, tok.start_pos or 0) else None
    at = len(text) if tok.type == "$END" else tok.start_pos
    if at is None:
        return None
    for name in reversed(keyword_names):
        if name.end_pos is not None and name.end_pos <= at and _GAP.fullmatch(text, name.end_pos, at):
            return name if _first_on_line(text, name.start_pos or 0) else None
    return None


def _expected_at_end(prefix: str) -> set[str]:
    """What the parser expects at the end of ``prefix`` (empty when it parses)."""
    parser, _ = _parser()
    try:
        with _LOCK:
            parser.parse(prefix)
    except (lark.exceptions.UnexpectedToken, lark.exceptions.UnexpectedEOF) as exc:
        return set(exc.expected)
    except Exception:  # noqa: BLE001 - only a better message is at stake
        return set()
    return set()


def _incomplete_before(text: str, file: str, keyword: Token) -> RuleSyntaxError:
    """The error for a definition cut short by the next top-level keyword, at that keyword."""
    expected = _expected_at_end(text[: keyword.start_pos])
    word = str(keyword).lower()
    if "_CONSENTED" in expected:
        message = f"a condition is missing before '{word}', which starts a new definition"
    elif expected == {"NAME"}:
        message = f"a name is missing before '{word}', which starts a new definition"
    elif expected & _VALUE_TERMINALS:
        message = f"a value is missing before '{word}', which starts a new definition"
    else:
        message = f"the definition before '{word}' is not complete ('{word}' starts a new one)"
    loc = Location(file, keyword.line or 1, keyword.column or 1)
    return RuleSyntaxError(
        message,
        location=loc,
        source_line=source_line(text, loc.line),
        expected=_expected(expected) or "the rest of the definition",
        hint="a definition ends where the next include, let, metric, model or segment starts",
    )


def _with_line(err: RuleError, text: str) -> RuleError:
    if err.location is None or err.source_line is not None:
        return err
    return type(err)(
        err.message,
        location=err.location,
        source_line=source_line(text, err.location.line),
        name=err.name,
        expected=err.expected,
        suggestion=err.suggestion,
        hint=err.hint,
    )


_FUNC_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*$")
_FUNCTIONS = (*ast.AGGREGATES, "days_since", *ast.ML_KINDS, *ast.ALGORITHMS)


# -- lexeme conversions ---------------------------------------------------------------
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n"}


def _number(text: str) -> Decimal:
    return Decimal(text.replace("_", ""))


def _int(tok: Token) -> int:
    return int(str(tok).replace("_", ""))


def _unit(tok: Token) -> str:
    return str(tok).lower().rstrip("s")


@v_args(inline=True)
class _ToAst(Transformer):  # type: ignore[type-arg]
    """Tree to AST; each node gets the position of its first token."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file

    def _loc(self, tok: Any) -> Location:
        if isinstance(tok, Token):
            return Location(self.file, tok.line or 1, tok.column or 1)
        if isinstance(tok, ast.Node) and tok.loc is not None:
            return tok.loc
        return Location(self.file, 1, 1)

    def _error(self, message: str, tok: Any, **kw: Any) -> RuleSyntaxError:
        return RuleSyntaxError(message, location=self._loc(tok), **kw)

    def _string(self, tok: Token) -> str:
        body = str(tok)[1:-1]
        out: list[str] = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch == "\\":
                nxt = body[i + 1] if i + 1 < len(body) else ""
                if nxt not in _ESCAPES:
                    raise self._error(
                        f"unknown escape '\\{nxt}' in a string", tok, expected='\\" or \\\\ or \\n'
                    )
                out.append(_ESCAPES[nxt])
                i += 2
            else:
                out.append(ch)
                i += 1
        return unicodedata.normalize("NFC", "".join(out))

    def _date(self, tok: Token) -> _dt.date:
        try:
            return _dt.date.fromisoformat(str(tok))
        except ValueError:
            raise self._error(f"'{tok}' is not a valid date", tok, expected="YYYY-MM-DD") from None

    # -- top level ----------------------------------------------------------------
    def start(self, *items: Any) -> list[Any]:
        return list(items)

    def include(self, s: Token) -> ast.Include:
        return ast.Include(self._string(s), loc=self._loc(s))

    def let(self, name: Token, _eq: Token, value: Any) -> ast.Let:
        return ast.Let(str(name), value, loc=self._loc(name))

    def let_value(self, value: Any) -> Any:
        return value

    def neg_number(self, minus: Token, num: ast.Number) -> ast.Number:
        return ast.Number(-num.value, loc=self._loc(minus))

    def metric(self, name: Token, _eq: Token, value: Any) -> ast.Metric:
        return ast.Metric(str(name), value, loc=self._loc(name))

    def model(self, name: Token, _eq: Token, algo: Token, *rest: Any) -> ast.Model:
        algorithm = str(algo).lower()
        if algorithm not in ast.ALGORITHMS:
            raise self._error(
                f"unknown algorithm '{algo}'",
                algo,
                name=str(algo),
                expected=", ".join(ast.ALGORITHMS),
            )
        args = [a for a in rest if a is not None and not isinstance(a, tuple)]
        opts: dict[str, Any] = {}
        for opt in (o for o in rest if isinstance(o, tuple)):
            key, value, tok = opt
            if key in opts or (key in ("k", "k_auto") and ("k" in opts or "k_auto" in opts)):
                raise self._error(f"option '{key.split('_')[0]}' given twice", tok)
            opts[key] = value
        horizon = [a for a in args if isinstance(a, ast.Horizon)]
        features = [a for a in args if not isinstance(a, ast.Horizon)]
        if len(horizon) > 1:
            raise self._error("'horizon' given twice", horizon[1])
        event: str | None = None
        if algorithm == "churn":
            if not features or not isinstance(features[0], ast.Name):
                raise self._error("churn needs the event first: churn(EVENT, horizon N days)", algo)
            event = features.pop(0).name
        if algorithm in ("churn", "clv") and not horizon:
            raise self._error(f"{algorithm} needs a horizon, e.g. horizon 90 days", algo, expected="horizon")
        if algorithm not in ("churn", "clv") and horizon:
            raise self._error(f"'horizon' is only for churn and clv, not {algorithm}", horizon[0])
        if algorithm not in ("churn", "clv") and not features:
            raise self._error(f"{algorithm} needs at least one feature", algo)
        names = opts.pop("names", None)
        options = ast.ModelOptions(
            **opts,
            **(
                {"names_by": names[0], "names_order": names[1], "names": names[2]}
                if names is not None
                else {}
            ),
        )
        return ast.Model(
            str(name),
            algorithm,
            tuple(features),
            options,
            event=event,
            horizon=horizon[0] if horizon else None,
            loc=self._loc(name),
        )

    def model_arg(self, value: Any) -> Any:
        return value

    def horizon(self, n: Token, unit: Token) -> ast.Horizon:
        return ast.Horizon(_int(n), _unit(unit), loc=self._loc(n))

    def opt_k(self, n: Token) -> tuple[str, Any, Token]:
        return ("k", _int(n), n)

    def opt_k_auto(self, a: Token, b: Token) -> tuple[str, Any, Token]:
        return ("k_auto", (_int(a), _int(b)), a)

    def opt_scale(self, v: Token) -> tuple[str, Any, Token]:
        if str(v).lower() not in ("standard", "robust", "none"):
            raise self._error(f"unknown scale '{v}'", v, expected="standard, robust or none")
        return ("scale", str(v).lower(), v)

    def opt_transform(self, v: Token) -> tuple[str, Any, Token]:
        if str(v).lower() not in ("log1p", "none"):
            raise self._error(f"unknown transform '{v}'", v, expected="log1p or none")
        return ("transform", str(v).lower(), v)

    def opt_seed(self, n: Token) -> tuple[str, Any, Token]:
        return ("seed", _int(n), n)

    def opt_eps(self, n: ast.Number) -> tuple[str, Any, Any]:
        return ("eps", n.value, n)

    def opt_min_samples(self, n: Token) -> tuple[str, Any, Token]:
        return ("min_samples", _int(n), n)

    def opt_names(self, feature: Token, order: Token, *names: Token) -> tuple[str, Any, Token]:
        return ("names", (str(feature), str(order).lower(), tuple(self._string(n) for n in names)), feature)

    def segment(self, name: Token, *rest: Any) -> ast.Segment:
        label = None
        clauses = list(rest)
        if clauses and isinstance(clauses[0], Token) and clauses[0].type == "STRING":
            label = self._string(clauses.pop(0))
        elif clauses and clauses[0] is None:
            clauses.pop(0)
        seen: dict[str, Any] = {}
        locs: list[tuple[str, Location]] = []
        for kind, value, tok in clauses:
            if kind in seen:
                raise self._error(f"clause '{kind}' given twice in segment '{name}'", tok)
            seen[kind] = value
            if kind == "purpose":
                locs += [(f"purpose:{t}", self._loc(t)) for t in tok]
            else:
                locs.append((kind, self._loc(tok)))
        if "where" not in seen:
            raise self._error(f"segment '{name}' has no 'where' clause", name, expected="where CONDITION")
        return ast.Segment(
            str(name),
            seen["where"],
            label=label,
            description=seen.get("description"),
            purposes=seen.get("purpose", ()),
            holdout=seen.get("holdout"),
            clause_locs=tuple(locs),
            loc=self._loc(name),
        )

    def description(self, s: Token) -> tuple[str, Any, Token]:
        return ("description", self._string(s), s)

    def purpose(self, *names: Token) -> tuple[str, Any, Any]:
        return ("purpose", tuple(str(n) for n in names), names)

    def where(self, cond: Any) -> tuple[str, Any, Any]:
        return ("where", cond, cond)

    def holdout(self, n: ast.Number) -> tuple[str, Any, Any]:
        return ("holdout", n.value, n)

    # -- expressions --------------------------------------------------------------
    def or_(self, left: Any, right: Any) -> ast.Or:
        return ast.Or(left, right, loc=self._loc(left))

    def and_(self, left: Any, right: Any) -> ast.And:
        return ast.And(left, right, loc=self._loc(left))

    def not_(self, tok: Token, operand: Any) -> ast.Not:
        return ast.Not(operand, loc=self._loc(tok))

    def compare(self, left: Any, op: Token, right: Any) -> ast.Compare:
        return ast.Compare(str(op), left, right, loc=self._loc(left))

    def in_list(self, value: Any, *rest: Any) -> ast.InList:
        negated = bool(rest) and isinstance(rest[0], Token) and rest[0].type == "NOT"
        items = tuple(r for r in rest if not isinstance(r, Token) and r is not None)
        return ast.InList(value, items, negated, loc=self._loc(value))

    def between(self, value: Any, *rest: Any) -> ast.Between:
        negated = isinstance(rest[0], Token) and rest[0].type == "NOT"
        low, high = [r for r in rest if not isinstance(r, Token) and r is not None]
        return ast.Between(value, low, high, negated, loc=self._loc(value))

    def is_null(self, value: Any, *rest: Any) -> ast.IsNull:
        negated = any(isinstance(r, Token) and r.type == "NOT" for r in rest)
        return ast.IsNull(value, negated, loc=self._loc(value))

    def text_match(self, value: Any, op: Token, pattern: Any) -> ast.TextMatch:
        return ast.TextMatch(str(op).lower(), value, pattern, loc=self._loc(value))

    def starts_with(self, value: Any, pattern: Any) -> ast.TextMatch:
        return ast.TextMatch("starts_with", value, pattern, loc=self._loc(value))

    def ends_with(self, value: Any, pattern: Any) -> ast.TextMatch:
        return ast.TextMatch("ends_with", value, pattern, loc=self._loc(value))

    def top_n(self, value: Any, which: Token, pct: ast.Number) -> ast.TopN:
        return ast.TopN(value, pct.value, str(which).lower() == "top", loc=self._loc(value))

    def in_segment(self, name: Token) -> ast.InSegment:
        return ast.InSegment(str(name), loc=self._loc(name))

    def was_in_segment(self, name: Token, n: Token, unit: Token) -> ast.WasInSegment:
        if _unit(unit) != "day":
            raise self._error("'was in segment' counts days: N days ago", unit, expected="days")
        return ast.WasInSegment(str(name), _int(n), loc=self._loc(name))

    def consented(self, purpose: Token, channel: Token | None = None) -> ast.Consented:
        return ast.Consented(
            str(purpose),
            str(channel) if channel is not None else None,
            loc=self._loc(purpose),
            channel_loc=self._loc(channel) if channel is not None else None,
        )

    def binop(self, left: Any, op: Token, right: Any) -> ast.BinOp:
        return ast.BinOp(str(op), left, right, loc=self._loc(left))

    def neg(self, minus: Token, operand: Any) -> ast.Neg:
        return ast.Neg(operand, loc=self._loc(minus))

    def name(self, tok: Token) -> ast.Name:
        return ast.Name(str(tok), loc=self._loc(tok))  # also AGG/MLFUNC words not followed by "("

    def aggregate(self, func: Token, event: Token, *rest: Any) -> ast.Aggregate:
        prop = next((r for r in rest if isinstance(r, Token)), None)
        window = next((r for r in rest if isinstance(r, (ast.Last, ast.DateRange, ast.Since))), None)
        where = next(
            (r for r in rest if r is not None and not isinstance(r, (Token, ast.Last, ast.DateRange, ast.Since))),
            None,
        )
        return ast.Aggregate(
            str(func).lower(),
            str(event),
            str(prop) if prop is not None else None,
            where,
            window,
            loc=self._loc(func),
            event_loc=self._loc(event),
            prop_loc=self._loc(prop) if prop is not None else None,
        )

    def last(self, n: Token, unit: Token) -> ast.Last:
        if _int(n) <= 0:
            raise self._error("a window needs a positive length", n, expected="a number above 0")
        return ast.Last(_int(n), _unit(unit), loc=self._loc(n))

    def date_range(self, start: Token, end: Token) -> ast.DateRange:
        a, b = self._date(start), self._date(end)
        if b < a:
            raise self._error("the window ends before it starts", end)
        return ast.DateRange(a, b, loc=self._loc(start))

    def since(self, start: Token) -> ast.Since:
        return ast.Since(self._date(start), loc=self._loc(start))

    def days_since_event(self, which: Token, event: Token) -> ast.DaysSince:
        return ast.DaysSince(str(which).lower(), str(event), loc=self._loc(which), target_loc=self._loc(event))

    def days_since_trait(self, trait: Token) -> ast.DaysSince:
        return ast.DaysSince("trait", str(trait), loc=self._loc(trait), target_loc=self._loc(trait))

    def rfm(self, field: Token) -> ast.Rfm:
        if str(field) not in ast.RFM_FIELDS:
            raise self._error(
                f"unknown RFM value 'rfm.{field}'",
                field,
                name=str(field),
                suggestion=closest(str(field), ast.RFM_FIELDS),
                expected=", ".join(ast.RFM_FIELDS),
            )
        return ast.Rfm(str(field), loc=self._loc(field))

    def model_call(self, func: Token, model: Token, arg: Token | None = None) -> ast.ModelCall:
        kind = str(func).lower()
        if kind == "probability" and arg is None:
            raise self._error('probability needs a cluster name: probability(MODEL, "Name")', func)
        if kind != "probability" and arg is not None:
            raise self._error(f"{kind} takes only the model name", arg)
        return ast.ModelCall(kind, str(model), self._string(arg) if arg is not None else None, loc=self._loc(func))

    # -- literals -----------------------------------------------------------------
    def number(self, tok: Token) -> ast.Number:
        return ast.Number(_number(str(tok)), loc=self._loc(tok))

    def string(self, tok: Token) -> ast.String:
        return ast.String(self._string(tok), loc=self._loc(tok))

    def date(self, tok: Token) -> ast.DateLit:
        return ast.DateLit(self._date(tok), loc=self._loc(tok))

    def true(self, tok: Token) -> ast.Bool:
        return ast.Bool(True, loc=self._loc(tok))

    def false(self, tok: Token) -> ast.Bool:
        return ast.Bool(False, loc=self._loc(tok))

    def null(self, *toks: Token) -> ast.Null:
        return ast.Null(loc=self._loc(toks[0]) if toks else None)
