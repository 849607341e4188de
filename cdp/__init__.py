"""cdp: a privacy-first customer data platform with a segment rules language."""

from __future__ import annotations

from cdp.errors import CDPError
from cdp.workspace import Workspace

__all__ = ["Workspace", "CDPError", "__version__"]

__version__ = "0.1.0"
