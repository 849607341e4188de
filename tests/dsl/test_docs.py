"""docs/language.md: its examples parse and check, and every form of the language is documented."""

from __future__ import annotations

import re
from pathlib import Path

import dsl
from dsl import ast
from tests.dsl.conftest import make_catalog

DOC = Path(__file__).parents[2] / "docs" / "language.md"


def _rule_blocks() -> str:
    blocks = re.findall(r"```\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    return "\n".join(b for b in blocks if re.search(r"^(segment|metric|model) ", b, re.MULTILINE) and "^" not in b)


def test_examples_parse_and_check() -> None:
    prog = dsl.loads(_rule_blocks(), file="language.md")
    errors = dsl.check_all(prog, make_catalog())
    assert errors == []
    assert {"platinum", "gold", "silver", "horeca_winback", "value_clusters"} <= {d.name for d in prog.definitions}


def test_every_form_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    words = [*ast.AGGREGATES, *ast.ML_KINDS, *ast.ALGORITHMS, *(f"rfm.{f}" for f in ast.RFM_FIELDS)]
    words += ["days_since", "icontains", "starts with", "ends with", "in top", "in bottom", "was in segment",
              "consented to", "holdout", "include", "let", "between", "is null", "over last", "since", "from"]
    missing = [w for w in words if w not in text]
    assert missing == []


def test_rfm_table_in_docs_matches_compiler() -> None:
    from dsl.compile.rfm import SEGMENT_TABLE

    text = DOC.read_text(encoding="utf-8")
    for r, row in SEGMENT_TABLE.items():
        assert f"| {r} | " + " | ".join(row) + " |" in text
