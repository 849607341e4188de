"""The public surface of each package is pinned: changing it is a reviewed decision."""

from __future__ import annotations

import importlib

import pytest

SURFACES = {
    "cdp": ["CDPError", "Workspace", "__version__"],
    "dsl": ["BuildPlan", "Catalog", "CheckedProgram", "CompileOptions", "CompiledSegment", "MemoryCatalog",
            "ModelDef", "ModelInfo", "Program", "RfmSettings", "check", "check_all", "compile_build",
            "compile_features", "compile_segment", "format_program", "load", "loads", "model_defs"],
    "privacy": ["audit", "businessdays", "dsar", "erasure", "gate", "inventory", "iys", "keys", "ledger",
                "normalize", "policy", "pseudonym", "released", "retention", "scan", "vault"],
    "connectors": ["destinations", "sources"],
    "connectors.sources": ["READERS", "ReadUnit", "SourceReader", "SourceState", "reader_for", "register_reader"],
    "connectors.destinations": ["Batch", "BatchResult", "Contact", "Destination", "ENTRY_POINT_GROUP",
                                "HttpDestination", "destination_class", "destination_kinds", "register"],
}


@pytest.mark.parametrize("module", sorted(SURFACES))
def test_public_surface_is_pinned(module: str) -> None:
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(SURFACES[module])
    for name in mod.__all__:
        if name != "__version__":
            assert hasattr(mod, name) or importlib.util.find_spec(f"{module}.{name}") is not None, name
