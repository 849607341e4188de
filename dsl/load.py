"""Rule files to one :class:`Program`: follows includes and builds the one namespace.

Includes are relative to the including file; a file reached both directly and through an
``include`` is loaded once; an include cycle is an error; a name defined twice (in any
file, by any kind of definition) is an error naming both places.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cdp.errors import Location, RuleCheckError, RuleSyntaxError
from dsl import ast
from dsl.parse import parse_text, source_line
from dsl.printer import format_items

__all__ = ["Program", "format_program", "load", "loads"]


@dataclass(frozen=True)
class Program:
    """The loaded rule files.

    ``items`` are the top-level forms of the files named directly (``include`` lines
    kept, in order); ``included`` the definitions of files reached only through an
    include. ``sources`` (file -> text) serves error carets; it is not part of equality.
    """

    items: tuple[ast.Item, ...]
    included: tuple[ast.Definition, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def definitions(self) -> tuple[ast.Definition, ...]:
        """Every definition of the program: included files first, then the named files."""
        own = tuple(i for i in self.items if not isinstance(i, ast.Include))
        return self.included + own  # type: ignore[return-value]

    def source_line(self, loc: Location | None) -> str | None:
        if loc is None or loc.file not in self.sources:
            return None
        return source_line(self.sources[loc.file], loc.line)


def format_program(prog: Program) -> str:
    """The canonical printed form of the named files' items (includes stay includes)."""
    return format_items(prog.items)


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _decode(data: bytes, file: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8", errors="replace")
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        raise RuleSyntaxError("the file is not valid UTF-8", location=Location(file, line, col)) from None
    return text.removeprefix("\ufeff")


class _Loader:
    def __init__(self) -> None:
        self.sources: dict[str, str] = {}
        self.parsed: dict[Path, tuple[str, tuple[ast.Item, ...]]] = {}
        self.done: set[Path] = set()
        self.order: list[Path] = []

    def parse_file(self, path: Path, display: str, at: ast.Include | None, text: str | None = None) -> None:
        if path in self.parsed:
            return
        if text is None:
            try:
                data = path.read_bytes()
            except OSError:
                raise self._error(at, f"cannot read rule file '{display}'", name=display) from None
            text = _decode(data, display)
        self.sources[display] = text
        self.parsed[path] = (display, parse_text(text, display))

    def _error(self, at: ast.Include | None, message: str, **kw: object) -> RuleCheckError:
        loc = at.loc if at is not None else None
        line = source_line(self.sources.get(loc.file, ""), loc.line) if loc else None
        return RuleCheckError(message, location=loc, source_line=line, **kw)  # type: ignore[arg-type]

    def visit(self, path: Path, stack: list[Path]) -> None:
        """Depth-first over includes; a file on the current stack means a cycle."""
        if path in self.done:
            return
        display, items = self.parsed[path]
        stack = stack + [path]
        for item in items:
            if not isinstance(item, ast.Include):
                continue
            target = (path.parent / item.path).resolve()
            shown = _display(Path(os.path.normpath(Path(display).parent / item.path)))
            if target in stack:
                chain = " -> ".join(self.parsed[p][0] for p in stack[stack.index(target):]) + f" -> {shown}"
                raise self._error(item, f"include cycle: {chain}", name=item.path)
            self.parse_file(target, shown, item)
            self.visit(target, stack)
        self.done.add(path)
        self.order.append(path)


def _check_namespace(defs: Iterable[ast.Definition], sources: Mapping[str, str]) -> None:
    seen: dict[str, ast.Definition] = {}
    for d in defs:
        first = seen.get(d.name)
        if first is not None:
            loc = d.loc
            line = source_line(sources.get(loc.file, ""), loc.line) if loc else None
            raise RuleCheckError(
                f"'{d.name}' is defined twice: at {first.loc} and at {loc}",
                location=loc,
                source_line=line,
                name=d.name,
                hint="all segment files share one namespace; rename one of them",
            )
        seen[d.name] = d


def _assemble(loader: _Loader, roots: list[Path]) -> Program:
    root_set = set(roots)
    items: list[ast.Item] = []
    for r in dict.fromkeys(roots):
        items.extend(loader.parsed[r][1])
    included: list[ast.Definition] = []
    for p in loader.order:
        if p not in root_set:
            included.extend(i for i in loader.parsed[p][1] if not isinstance(i, ast.Include))  # type: ignore[misc]
    prog = Program(tuple(items), tuple(included), dict(loader.sources))
    _check_namespace(prog.definitions, loader.sources)
    return prog


def load(paths: Iterable[Path | str]) -> Program:
    """Parse rule files (and what they include) into one program with one namespace."""
    given = [Path(p) for p in paths]
    roots = [p.resolve() for p in given]
    loader = _Loader()
    try:
        for shown, root in zip(given, roots, strict=True):
            loader.parse_file(root, _display(root) if shown.is_absolute() else str(shown), None)
        for root in dict.fromkeys(roots):
            loader.visit(root, [])
    except RecursionError:
        raise RuleSyntaxError("the rule is nested too deeply") from None
    return _assemble(loader, roots)


def loads(text: str | bytes, file: str = "<string>") -> Program:
    """Parse rule text; includes resolve relative to ``file`` (the cwd for ``<string>``)."""
    if isinstance(text, bytes):
        text = _decode(text, file)
    base = Path(file) if not file.startswith("<") else Path.cwd() / "__string__.seg"
    root = base.resolve()
    loader = _Loader()
    try:
        loader.parse_file(root, file, None, text=text)
        loader.visit(root, [])
    except RecursionError:
        raise RuleSyntaxError("the rule is nested too deeply", location=Location(file, 1, 1)) from None
    return _assemble(loader, [root])
