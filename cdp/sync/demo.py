"""What `cdp demo` adds for syncs: two destinations and a dry run of each.

The demo engineer pastes :data:`DEMO_TOML` into the demo's cdp.toml (it replaces the
"Destinations" and "Syncs" placeholders) and runs :func:`dry_run_demo` as the last step:
nothing leaves the machine (a dry run needs no token and sends no request).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cdp.workspace import Workspace

__all__ = ["DEMO_SYNCS", "DEMO_TOML", "dry_run_demo"]

DEMO_TOML = """
[destinations.exports]
kind = "file"                      # CSV files with hashed identifiers, for a manual upload
path = "exports"
format = "csv"
country = "TR"

[destinations.meta_ads]
kind = "meta"
audience_id = "23850000000000000"  # your Custom Audience id
token_env = "META_TOKEN"           # never in this file; a dry run needs none
country = "US"
transfer = { basis = "standard_contract", signed_at = 2025-03-10, notified_at = 2025-03-14 }

[syncs.winback_file]
segment = "horeca_winback"
destination = "exports"
purpose = "email_marketing"

[syncs.beverages_meta]
segment = "beverages_lovers"
destination = "meta_ads"
purpose = "ads_targeting"
mode = "mirror"
schedule = "0 6 * * *"             # 06:00 Europe/Istanbul, with `cdp schedule run`
"""

DEMO_SYNCS = ("winback_file", "beverages_meta")


def dry_run_demo(ws: Workspace, as_of: Any = None) -> list[dict[str, Any]]:
    """Dry runs of the demo syncs: counts, exclusions by reason and hashed sample bodies."""
    return ws.sync.run(list(DEMO_SYNCS), dry_run=True, as_of=as_of)
