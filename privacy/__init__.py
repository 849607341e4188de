"""The privacy layer: keys, pseudonyms, vault, consent ledger, gate, erasure (PRIVACY.md).

Imports only ``cdp.errors`` of ours; works on a DuckDB connection. Submodules are
imported by name (``from privacy.ledger import append``) so each stays cheap to load:

* ``ledger`` consent events, hash chain, checkpoints, ``state_at``;
* ``gate`` ``release`` (the only way out) and ``revoked``; ``policy`` its inputs;
* ``erasure``, ``dsar``, ``retention``, ``scan``, ``inventory``, ``iys``, ``audit``,
  ``businessdays``; ``keys``, ``normalize``, ``pseudonym``, ``vault``; ``released``.
"""

from __future__ import annotations

__all__: list[str] = [
    "audit",
    "businessdays",
    "dsar",
    "erasure",
    "gate",
    "inventory",
    "iys",
    "keys",
    "ledger",
    "normalize",
    "policy",
    "pseudonym",
    "released",
    "retention",
    "scan",
    "vault",
]
