"""The public surface of ``dsl`` is pinned; ``dsl`` imports nothing of ours but cdp.errors."""

from __future__ import annotations

import ast as pyast
from pathlib import Path

import dsl

PUBLIC = {
    "load", "loads", "Program", "format_program", "check", "check_all", "CheckedProgram", "Catalog",
    "MemoryCatalog", "ModelInfo", "RfmSettings", "CompileOptions", "CompiledSegment", "BuildPlan",
    "compile_segment", "compile_build", "compile_features", "ModelDef", "model_defs",
}


def test_public_names() -> None:
    assert set(dsl.__all__) == PUBLIC
    assert all(hasattr(dsl, n) for n in PUBLIC)


def test_dsl_imports_only_cdp_errors() -> None:
    root = Path(dsl.__file__).parent
    for path in root.rglob("*.py"):
        tree = pyast.parse(path.read_text(encoding="utf-8"))
        for node in pyast.walk(tree):
            names = []
            if isinstance(node, pyast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, pyast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in ("cdp", "privacy", "connectors"):
                    assert name == "cdp.errors", f"{path.name} imports {name}"


def test_memory_catalog_is_a_catalog() -> None:
    assert isinstance(dsl.MemoryCatalog(), dsl.Catalog)
