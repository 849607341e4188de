"""Destination connectors: one package per platform, a shared protocol and a registry.

Connectors import only ``privacy`` types and ``cdp.errors``; the sync engine in
``cdp.sync`` drives them.
"""

from __future__ import annotations

from connectors.destinations.base import Batch, BatchResult, Contact, Destination, HttpDestination
from connectors.destinations.registry import ENTRY_POINT_GROUP, destination_class, destination_kinds, register

__all__ = [
    "ENTRY_POINT_GROUP",
    "Batch",
    "BatchResult",
    "Contact",
    "Destination",
    "HttpDestination",
    "destination_class",
    "destination_kinds",
    "register",
]
