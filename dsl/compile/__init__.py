"""The SQL compiler: checked AST to sqlglot expressions, one module per concern.

``windows`` (cutoff literals), ``dialects`` (lookup tables), ``values`` (per-customer
columns in layers), ``conditions``, ``rfm``, ``holdout``, ``build`` (assembling queries).
"""

from __future__ import annotations

from dsl.compile.build import PRELUDE_TABLE, compile_build, compile_features, compile_segment
from dsl.compile.options import DIALECTS, BuildPlan, CompiledSegment, CompileOptions

__all__ = [
    "DIALECTS",
    "PRELUDE_TABLE",
    "BuildPlan",
    "CompileOptions",
    "CompiledSegment",
    "compile_build",
    "compile_features",
    "compile_segment",
]
