"""The Destination protocol: what every platform connector implements.

The sync engine (``cdp.sync``) owns the diff, batching, retries, receipts and state; a
destination only knows its platform: how to normalize and hash contact points, how to
shape one batch into a request and what the answer means. It accepts members only under
a sealed :class:`privacy.released.ReleasedAudience` (``begin`` refuses anything else).

Errors: a retryable failure (throttling, 5xx, timeout, garbage answer) raises
:class:`cdp.errors.TransientDestinationError` (``retry_after`` set when the platform said
so); anything else the platform refuses raises :class:`TerminalDestinationError` with the
platform's message (never an identifier).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import httpx

from cdp.errors import (
    ConfigError,
    DestinationError,
    PrivacyError,
    TerminalDestinationError,
    TransientDestinationError,
)
from privacy.released import ReleasedAudience

__all__ = [
    "Batch",
    "BatchResult",
    "Contact",
    "Destination",
    "HttpDestination",
    "Op",
    "require_sealed",
]

Op = Literal["add", "remove"]


@dataclass(frozen=True, slots=True)
class Contact:
    """One member as the sync hands it to a destination.

    Plain contact points come from the vault, decrypted inside the sync only; for a
    removal of someone no longer in the vault (erased) only ``platform_key`` is known.
    ``reason`` for removals: ``left`` (no longer in the audience), ``revoked`` (consent
    withdrawn, refused or objected) or ``erased``.
    """

    customer_id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    country: str | None = None
    platform_key: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """One request's worth of members for one operation.

    ``seq``/``total`` number the batches of this operation in the run (Meta sessions);
    ``key`` is the idempotency key, the same on every retry and after a resume.
    """

    sync: str
    run_id: int
    batch_no: int
    op: Op
    members: Sequence[Contact]
    seq: int = 1
    total: int = 1
    estimated_total: int = 0
    key: str = ""


@dataclass(slots=True)
class BatchResult:
    """What the platform answered: counts only, never identifiers.

    ``keys`` maps customer_id to the platform key to keep in the sync state (a hashed
    match key, a Mailchimp subscriber hash, a Klaviyo profile id).
    ``failed`` lists customer_ids the platform rejected individually (partial failure).
    """

    received: int = 0
    invalid: int = 0
    counts: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


def require_sealed(audience: object) -> ReleasedAudience:
    """Refuse anything that is not a sealed ReleasedAudience from the privacy gate."""
    if not isinstance(audience, ReleasedAudience) or not audience.is_sealed():
        raise PrivacyError(
            "a destination accepts only an audience released by the privacy gate",
            hint="build the audience with privacy.gate.release (cdp sync run does this)",
        )
    return audience


class Destination:
    """Base of every destination. Subclasses set ``kind`` and ``limits`` and implement
    :meth:`request_body`, :meth:`send` and :meth:`platform_key`.

    ``settings`` is the destination's table from cdp.toml (plain values, no secrets);
    ``secrets`` maps a setting name (``token``, ``api_key``, ``secret``...) to the
    value read from the environment variable that cdp.toml names.
    """

    kind: ClassVar[str] = ""
    #: the most members one request may carry, per operation
    limits: ClassVar[dict[str, int]] = {"add": 10_000, "remove": 10_000}
    #: plain contact fields the destination needs from the vault
    contact_fields: ClassVar[tuple[str, ...]] = ("email",)
    #: whether an add needs plain contact points (as opposed to removes by platform key)
    default_channel: ClassVar[str] = "ads"
    #: True for destinations that leave the country (cross-border check)
    abroad: ClassVar[bool] = True
    #: minimum audience size default (None: no minimum)
    min_audience: ClassVar[int | None] = 100
    secret_names: ClassVar[tuple[str, ...]] = ()
    #: whether removals need plain contact points (else the platform key is enough)
    remove_needs_contacts: ClassVar[bool] = False

    def __init__(
        self,
        name: str,
        settings: Mapping[str, Any],
        secrets: Mapping[str, str] | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.settings = dict(settings)
        self.secrets = dict(secrets or {})
        self.transport = transport
        self.audience: ReleasedAudience | None = None
        for secret in self.secret_names:
            if not self.secrets.get(secret):
                env = self.settings.get(f"{secret}_env") or "?"
                raise ConfigError(
                    f"the environment variable {env} that holds the {secret} is not set",
                    key=f"destinations.{name}.{secret}_env",
                    hint=f"export {env}=... before running the sync",
                )

    #: batches in flight at once: the default, and the most the platform tolerates
    default_concurrency: ClassVar[int] = 1
    max_concurrency: ClassVar[int] = 1

    # -- limits -----------------------------------------------------------------
    def batch_size(self, op: Op) -> int:
        """The batch size for ``op``: the configured ``batch_size`` capped by the platform limit."""
        limit = self.limits.get(op, 1000)
        wanted = self.settings.get("batch_size")
        return max(1, min(int(wanted), limit)) if wanted else limit

    def concurrency(self) -> int:
        """Batches in flight at once: ``concurrency`` from cdp.toml capped by the platform."""
        wanted = self.settings.get("concurrency")
        value = int(wanted) if wanted else self.default_concurrency
        return max(1, min(value, self.max_concurrency))

    # -- lifecycle ----------------------------------------------------------------
    def begin(self, audience: ReleasedAudience, *, dry_run: bool = False) -> None:
        """Start a run for this audience; refuses an unsealed or foreign audience."""
        self.audience = require_sealed(audience)
        self.dry_run = dry_run
        if not self.settings.get("channel"):
            self.settings["channel"] = audience.channel

    def begin_removals(self, channel: str | None = None) -> None:
        """Start a run that may only remove (the gate refused to release anything, but
        people who withdrew or were erased must still leave the platform)."""
        self.audience = None
        self.removals_only = True
        self.dry_run = False
        if channel and not self.settings.get("channel"):
            self.settings["channel"] = channel

    def finish(self) -> dict[str, Any]:
        """End of run (e.g. close a session); returns extra platform counts."""
        return {}

    def close(self) -> None:
        """Release network resources."""

    # -- per batch ------------------------------------------------------------------
    def platform_key(self, contact: Contact) -> str | None:
        """The key kept in the sync state to remove this member later without the vault."""
        return None

    def key_from_match_keys(self, match_keys: Mapping[str, Any], platform_key: str | None) -> str | None:
        """The removal key for an erased person from the privacy layer's removal queue.

        ``match_keys`` holds ``email_sha256``, ``email_md5``, ``phone_sha256`` (E.164 with
        '+') and ``phone_digits_sha256``; ``platform_key`` is what the sync state held.
        """
        return platform_key

    def request_body(self, batch: Batch, *, redact: bool = False) -> Any:
        """The body this batch would be sent as; ``redact`` hashes any plain identifier
        (used for dry-run samples)."""
        raise NotImplementedError

    def send(self, batch: Batch) -> BatchResult:
        """Send one batch; raises Transient/TerminalDestinationError."""
        raise NotImplementedError

    removals_only = False

    def _check_started(self, batch: Batch | None = None) -> None:
        if self.audience is not None:
            return
        if self.removals_only and batch is not None and batch.op == "remove":
            return
        raise PrivacyError("send() before begin(): no released audience for this run")


class HttpDestination(Destination):
    """A destination over HTTP with httpx: base URL, auth headers, timeouts, rate limit.

    ``base_url`` may be overridden in cdp.toml (tests point it at a local fake).
    ``max_rps`` (cfg) spaces requests; ``timeout`` is in seconds.
    """

    default_base_url: ClassVar[str] = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = str(self.settings.get("base_url") or self.default_base_url).rstrip("/")
        self._client: httpx.Client | None = None
        self._rate_lock = threading.Lock()
        self._next_at = 0.0

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            quiet_http_logs()
            timeout = float(self.settings.get("timeout", 30.0))
            self._client = httpx.Client(
                base_url=self.base_url, timeout=timeout, transport=self.transport, headers=self.headers()
            )
        return self._client

    def headers(self) -> dict[str, str]:
        return {}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _throttle(self) -> None:
        rps = self.settings.get("max_rps")
        if not rps:
            return
        with self._rate_lock:
            now = time.monotonic()
            wait = self._next_at - now
            self._next_at = max(now, self._next_at) + 1.0 / float(rps)
        if wait > 0:
            time.sleep(wait)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One HTTP call; transport failures become TransientDestinationError.

        The status is not interpreted here (each platform reads its own errors).
        """
        self._throttle()
        try:
            return self.client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientDestinationError("request timed out", platform=self.kind) from exc
        except httpx.TransportError as exc:
            raise TransientDestinationError(f"network error: {type(exc).__name__}", platform=self.kind) from exc

    def parse_json(self, response: httpx.Response) -> Any:
        """The JSON body, or a transient error when the platform answered garbage."""
        if not response.content:
            return {}
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
            raise TransientDestinationError(
                "the platform answered a body that is not JSON", platform=self.kind, status=response.status_code
            ) from exc

    def generic_error(self, response: httpx.Response, message: str, code: str | int | None = None) -> DestinationError:
        """Map an HTTP status to our error types: 429/5xx transient, other 4xx terminal."""
        retry_after = _retry_after(response)
        if response.status_code == 429 or response.status_code >= 500:
            return TransientDestinationError(
                message, platform=self.kind, status=response.status_code, code=code, retry_after=retry_after
            )
        return TerminalDestinationError(message, platform=self.kind, status=response.status_code, code=code)


def quiet_http_logs() -> None:
    """httpx logs every request URL at INFO; some platform URLs carry contact points in
    the query (Klaviyo's profile lookup), so those records never reach a log."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
