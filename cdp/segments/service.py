"""``ws.segments``: the Python API behind ``cdp segment``.

Every method opens the store for its own work and closes it (ARCHITECTURE.md, "Store
access"). Rule files are ``segments/*.seg`` of the workspace; they share one namespace.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdp.errors import CDPError, NotFoundError, RuleError

if TYPE_CHECKING:
    from cdp.segments.asof import AsOf
    from cdp.workspace import Workspace

__all__ = ["DIALECTS", "ENGINES", "SegmentService"]

ENGINES = ("duckdb", "postgres", "spark")
DIALECTS = ("duckdb", "postgres", "spark")

AsOfLike = str | date | datetime | None


class SegmentService:
    """Check, explain, preview, build and compare segments of one workspace."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    # -- rule files ----------------------------------------------------------------------
    def rule_files(self, files: list[Path] | list[str] | None = None) -> list[Path]:
        """The given files, or every ``segments/*.seg`` of the workspace (sorted)."""
        if files:
            out = [Path(f) for f in files]
            for f in out:
                if not f.exists():
                    raise CDPError(f"no rule file {f}", hint="give paths relative to the current folder")
            return out
        return sorted(self.ws.segments_dir.glob("*.seg"))

    def _load(self, files: list[Path] | list[str] | None = None) -> Any:
        import dsl

        paths = self.rule_files(files)
        if not paths:
            raise CDPError(
                f"no rule files in {self.ws.segments_dir}",
                hint="write segments/*.seg (see docs/language.md) or run `cdp demo`",
            )
        return dsl.load(paths)

    def as_of(self, value: AsOfLike = None) -> AsOf:
        from cdp.segments.asof import parse_as_of

        return parse_as_of(value, self.ws.timezone)

    def _options(self, when: AsOf, dialect: str = "duckdb") -> Any:
        import dsl

        if dialect not in DIALECTS:
            raise CDPError(f"unknown dialect '{dialect}'", hint="use one of: " + ", ".join(DIALECTS))
        return dsl.CompileOptions(as_of=when.local, as_of_utc=when.utc, timezone=when.timezone, dialect=dialect)

    def _catalog(self, con: Any, *, declared: bool = True) -> Any:
        from cdp.catalog import WorkspaceCatalog

        return WorkspaceCatalog(self.ws, con, declared=declared)

    def _checked(self, con: Any, files: list[Path] | list[str] | None = None) -> Any:
        """The checked program for running rules: traits must exist as store columns."""
        import dsl

        catalog = self._catalog(con, declared=False)
        try:
            return dsl.check(self._load(files), catalog)
        except RuleError as exc:
            if exc.name and exc.name in catalog.pending_traits():
                raise type(exc)(
                    exc.message, location=exc.location, source_line=exc.source_line, name=exc.name,
                    expected=exc.expected, suggestion=exc.suggestion,
                    hint=f"'{exc.name}' is declared in cdp.toml but nothing has been ingested for it yet: "
                    "run `cdp ingest` first",
                ) from exc
            raise

    @staticmethod
    def _require(checked: Any, name: str) -> None:
        names = _segment_names(checked)
        if name not in names:
            import difflib

            close = difflib.get_close_matches(name, sorted(names), n=1)
            raise NotFoundError("segment", name, suggestion=close[0] if close else None,
                                hint="`cdp segment list` shows the defined segments")

    # -- check ---------------------------------------------------------------------------
    def check(self, files: list[Path] | list[str] | None = None) -> list[RuleError]:
        """Every error of the rule files (syntax and checks), in file order; [] when all is well."""
        return self.check_report(files)["errors"]

    def check_report(self, files: list[Path] | list[str] | None = None) -> dict[str, Any]:
        """``check`` plus counts: files, segments, metrics, files with errors."""
        import dsl

        paths = self.rule_files(files)
        if not paths:
            raise CDPError(
                f"no rule files in {self.ws.segments_dir}",
                hint="write segments/*.seg (see docs/language.md) or run `cdp demo`",
            )
        summary: dict[str, Any] = {"files": len(paths), "segments": 0, "metrics": 0}
        try:
            prog = dsl.load(paths)
        except RuleError as exc:
            errors = self._load_errors(paths, exc)
        else:
            summary["segments"] = len(_segment_names(prog))
            summary["metrics"] = len(_metric_names(prog))
            if self.ws.store_path.exists():
                with self.ws.store(read_only=True) as con:
                    errors = list(dsl.check_all(prog, self._catalog(con)))
            else:
                errors = list(dsl.check_all(prog, self._catalog(None)))
        errors.sort(key=lambda e: (e.location.file, e.location.line, e.location.col) if e.location else ("", 0, 0))
        summary["errors"] = errors
        summary["files_with_errors"] = len({e.location.file for e in errors if e.location is not None})
        return summary

    @staticmethod
    def _load_errors(paths: list[Path], first: RuleError) -> list[RuleError]:
        """A syntax error stops a file's parse: load each file alone to report every file's first error."""
        import dsl

        errors: list[RuleError] = []
        seen: set[str] = set()
        for path in paths:
            try:
                dsl.load([path])
            except RuleError as exc:
                key = str(exc)
                if key not in seen:
                    seen.add(key)
                    errors.append(exc)
        return errors or [first]

    # -- explain / preview ---------------------------------------------------------------
    def explain(self, name: str, as_of: AsOfLike = None, dialect: str = "duckdb", *,
                pretty: bool = False) -> dict[str, Any]:
        """The compiled SQL in ``dialect`` and the funnel (customers passing each condition, in order).

        The funnel always runs on the embedded store (DuckDB), whatever the dialect shown.
        """
        from cdp.segments.preview import funnel

        when = self.as_of(as_of)
        with self.ws.store() as con:
            checked = self._checked(con)
            self._require(checked, name)
            import dsl

            shown = dsl.compile_segment(checked, name, self._options(when, dialect))
            local = shown if dialect == "duckdb" else dsl.compile_segment(checked, name, self._options(when))
            steps = funnel(con, local)
        return {"segment": name, "as_of": when.local, "dialect": dialect,
                "sql": shown.sql(dialect, pretty=pretty), "funnel": steps}

    def preview(self, name: str, as_of: AsOfLike = None, sample: int = 10) -> dict[str, Any]:
        """Size, control size, share of all customers and a sample with the values that qualified them."""
        import dsl
        from cdp.segments.preview import preview as run_preview

        when = self.as_of(as_of)
        with self.ws.store() as con:
            checked = self._checked(con)
            self._require(checked, name)
            seg = dsl.compile_segment(checked, name, self._options(when))
            result = run_preview(con, seg, sample=sample)
        return {"segment": name, "as_of": when.local, **result}

    # -- build -----------------------------------------------------------------------------
    def build(
        self,
        names: list[str] | None = None,
        as_of: AsOfLike = None,
        engine: str = "duckdb",
        *,
        on_segment: Callable[[str, int, int], None] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Build all (or the named) segments in dependency order and store them in one transaction.

        Returns ``{name: {"members": N, "control": M, "build_id": id}}`` in build order.
        """
        from cdp.segments.build import run_build

        if engine not in ENGINES:
            raise CDPError(
                f"unknown engine '{engine}'",
                hint="--engine duckdb (the embedded store, default), postgres or spark (docs/scale.md)",
            )
        when = self.as_of(as_of)
        with self.ws.store() as con:
            checked = self._checked(con)
            for name in names or []:
                self._require(checked, name)
            runner = None
            if engine != "duckdb":  # engines area: run on postgres/spark (cdp/engines/run.py)
                from cdp.engines import engine_runner

                runner = engine_runner(self.ws, con, engine)
            return run_build(
                con, checked, names or None, when, self._options, engine=engine,
                keep_builds=self.ws.config.rules.keep_builds, on_segment=on_segment, runner=runner,
            )

    # -- stored builds ---------------------------------------------------------------------
    def list(self) -> builtins.list[dict[str, Any]]:
        """The latest build of every segment (by as_of) and the defined segments never built."""
        from cdp.segments.storage import latest_builds

        with self.ws.store() as con:
            items = [b.to_dict() for b in latest_builds(con)]
        built = {i["segment"] for i in items}
        try:
            prog = self._load()
        except CDPError:
            prog = None  # `cdp segment check` reports rule errors; list shows what is stored
        if prog is not None:
            for name, label in _segment_labels(prog).items():
                if name not in built:
                    items.append({"segment": name, "label": label, "build_id": None, "members": None,
                                  "control": None, "as_of": None})
        return sorted(items, key=lambda i: i["segment"])

    def history(self, name: str) -> builtins.list[dict[str, Any]]:
        """Every stored build of ``name``, oldest first, with entered/left since the previous build."""
        from cdp.segments.history import history

        with self.ws.store() as con:
            return history(con, name)

    def diff(self, name: str, build_a: int | None = None, build_b: int | None = None) -> dict[str, Any]:
        """Entered/left counts and sample ids between two builds (default: the last two)."""
        from cdp.segments.history import diff

        with self.ws.store() as con:
            return diff(con, name, build_a, build_b)


# -- reading the dsl's program (dsl.load -> Program with .definitions) ---------------------
def _program(prog: Any) -> Any:
    """The loaded Program, whether given it or the checker's result wrapping it."""
    return prog if hasattr(prog, "definitions") else getattr(prog, "program", prog)


def _definitions(prog: Any, kind: str) -> dict[str, Any]:
    return {d.name: d for d in _program(prog).definitions if type(d).__name__ == kind}


def _segment_names(prog: Any) -> set[str]:
    return set(_definitions(prog, "Segment"))


def _segment_labels(prog: Any) -> dict[str, str | None]:
    return {n: s.label for n, s in _definitions(prog, "Segment").items()}


def _metric_names(prog: Any) -> set[str]:
    return set(_definitions(prog, "Metric"))
