"""The cdp-side glue of the privacy layer: config -> policy, store and key store -> privacy/."""

from __future__ import annotations

__all__ = ["ComplianceService"]


def __getattr__(name: str) -> object:
    if name == "ComplianceService":
        from cdp.compliance.service import ComplianceService

        return ComplianceService
    raise AttributeError(name)
