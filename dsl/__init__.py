"""The segment rule language: parse, check and compile ``segments/*.seg`` to SQL.

    import dsl
    prog = dsl.load([Path("segments/a.seg")])        # or dsl.loads(text, file="x.seg")
    checked = dsl.check(prog, catalog)                # RuleCheckError on the first error
    opts = dsl.CompileOptions(as_of=datetime(2026, 3, 31), timezone="Europe/Istanbul")
    seg = dsl.compile_segment(checked, "gold", opts)  # seg.query: SELECT customer_id, control
    print(seg.sql("postgres"))

Only ``cdp.errors`` of the project is imported; the workspace is seen through
:class:`dsl.Catalog`. The language is specified in docs/language.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dsl.catalog import Catalog, MemoryCatalog, ModelInfo, RfmSettings
from dsl.check import CheckedProgram, check, check_all
from dsl.load import Program, format_program, load, loads
from dsl.models import ModelDef, model_defs

if TYPE_CHECKING:
    from dsl.compile import (
        BuildPlan,
        CompiledSegment,
        CompileOptions,
        compile_build,
        compile_features,
        compile_segment,
    )

_COMPILE = {"BuildPlan", "CompiledSegment", "CompileOptions", "compile_build", "compile_features", "compile_segment"}


def __getattr__(name: str) -> Any:
    """The compiler (and sqlglot) is imported on first use: `cdp segment check` starts fast."""
    if name in _COMPILE:
        import dsl.compile as compiler

        return getattr(compiler, name)
    raise AttributeError(f"module 'dsl' has no attribute {name!r}")

__all__ = [
    "BuildPlan",
    "Catalog",
    "CheckedProgram",
    "CompileOptions",
    "CompiledSegment",
    "MemoryCatalog",
    "ModelDef",
    "ModelInfo",
    "Program",
    "RfmSettings",
    "check",
    "check_all",
    "compile_build",
    "compile_features",
    "compile_segment",
    "format_program",
    "load",
    "loads",
    "model_defs",
]
