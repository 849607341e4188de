"""Models are JSON: no pickle, joblib or similar loading anywhere in our packages."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = re.compile(
    r"^\s*(import|from)\s+(pickle|cPickle|_pickle|joblib|dill|cloudpickle|shelve|marshal)\b"
    r"|\b(pickle|joblib|dill|cloudpickle|marshal)\.(load|loads|dump|dumps)\b"
    r"|\bnp\.load\([^)]*allow_pickle\s*=\s*True",
    re.MULTILINE,
)


def test_no_pickle_or_joblib_loading_in_packages():
    offenders = []
    for package in ("cdp", "dsl", "privacy", "connectors"):
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for m in FORBIDDEN.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {m.group(0).strip()}")
    assert offenders == []


def test_the_grep_catches_what_it_should(tmp_path):
    samples = ["import pickle", "from joblib import load", "x = joblib.load(f)", "np.load(p, allow_pickle=True)"]
    for s in samples:
        assert FORBIDDEN.search(s), s
    assert not FORBIDDEN.search("json.loads(text)  # never pickle")
