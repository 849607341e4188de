"""Shared fixtures. Areas keep their own fixtures in tests/<area>/conftest.py."""

from __future__ import annotations

import base64
import os

import pytest


@pytest.fixture(autouse=True)
def _master_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch a real master key: a fixed test key unless a test sets its own."""
    if "CDP_MASTER_KEY" not in os.environ:
        monkeypatch.setenv("CDP_MASTER_KEY", base64.b64encode(b"k" * 32).decode())
    monkeypatch.setenv("CDP_STORE_WAIT", os.environ.get("CDP_STORE_WAIT", "5"))
