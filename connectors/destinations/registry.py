"""Which class implements each destination ``kind``: the built-ins plus plugins.

A third-party package adds a destination by declaring an entry point in the
``cdp.connectors`` group whose object is a :class:`~connectors.destinations.base.Destination`
subclass (the entry point's name is the ``kind`` used in cdp.toml)::

    [project.entry-points."cdp.connectors"]
    crm_x = "cdp_crm_x:CrmXDestination"

Entry points of the same group that are not destinations (source connectors) are ignored.
"""

from __future__ import annotations

import difflib
from importlib import import_module
from importlib.metadata import entry_points

from cdp.errors import NotFoundError
from connectors.destinations.base import Destination

__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "destination_class", "destination_kinds", "register"]

ENTRY_POINT_GROUP = "cdp.connectors"

BUILTIN: dict[str, str] = {
    "meta": "connectors.destinations.meta:MetaDestination",
    "google_ads": "connectors.destinations.google_ads:GoogleAdsDestination",
    "mailchimp": "connectors.destinations.mailchimp:MailchimpDestination",
    "klaviyo": "connectors.destinations.klaviyo:KlaviyoDestination",
    "webhook": "connectors.destinations.webhook:WebhookDestination",
    "file": "connectors.destinations.file:FileDestination",
}

_registered: dict[str, type[Destination]] = {}


def register(kind: str, cls: type[Destination]) -> None:
    """Register a destination class in-process (tests, notebooks); entry points are the
    packaged way."""
    if not (isinstance(cls, type) and issubclass(cls, Destination)):
        raise TypeError(f"{cls!r} is not a Destination subclass")
    _registered[kind] = cls


def _plugins() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def destination_kinds() -> list[str]:
    """Every known kind: built-in, registered and from installed plugins."""
    return sorted(set(BUILTIN) | set(_registered) | set(_plugins()))


def destination_class(kind: str) -> type[Destination]:
    """The class for ``kind``; NotFoundError with a did-you-mean when unknown."""
    if kind in _registered:
        return _registered[kind]
    if kind in BUILTIN:
        module, _, attr = BUILTIN[kind].partition(":")
        return getattr(import_module(module), attr)
    plugin = _plugins().get(kind)
    if plugin is not None:
        cls = plugin.load()  # type: ignore[attr-defined]
        if isinstance(cls, type) and issubclass(cls, Destination):
            return cls
    close = difflib.get_close_matches(kind, destination_kinds(), n=1)
    raise NotFoundError(
        "destination kind",
        kind,
        suggestion=close[0] if close else None,
        hint=f"built-in kinds: {', '.join(sorted(BUILTIN))}; plugins register in the "
        f"'{ENTRY_POINT_GROUP}' entry point group",
    )
