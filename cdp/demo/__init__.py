"""The demo: a synthetic Turkish cash & carry wholesaler and the `cdp demo` command behind it.

``generate(target_dir, customers, seed, end_date)`` writes the data files (deterministic for a
seed and end date, fast at a million customers); ``run_demo(target, customers, seed, progress)``
creates a workspace with those files and a cdp.toml for them, copies the example segments and
ingests everything (docs/quickstart.md).
"""

from __future__ import annotations

from cdp.demo.generate import DATA_FILES, generate
from cdp.demo.run import STEPS, run_demo

__all__ = ["DATA_FILES", "STEPS", "generate", "run_demo"]
