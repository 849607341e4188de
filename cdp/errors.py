"""The one error tree of the project.

Every package may import this module (it imports nothing of ours). Errors carry
structured fields; the message is built from them, so tests assert on fields.
No error message ever contains the value of an identifier: name the file, row
and field instead.

    CDPError
    ├── ConfigError            cdp.toml invalid (key, file:line)
    ├── StoreError
    │   └── StoreBusyError     another process holds the store (transient)
    ├── KeyError_              master key missing or wrong
    ├── IngestError
    │   └── RejectedRowsError  --strict and some rows were rejected
    ├── RuleError              a segment rule file is wrong (file:line:col, caret, hint)
    │   ├── RuleSyntaxError
    │   └── RuleCheckError     unknown names, types, cycles, purposes, untrained models
    ├── ModelError
    ├── PrivacyError
    │   ├── ConsentLedgerError ledger does not verify (names the first bad seq)
    │   └── GateRefusal        the gate refused a release (missing transfer record, min size)
    ├── DestinationError
    │   ├── TransientDestinationError   429/5xx/timeouts: retried
    │   └── TerminalDestinationError    other 4xx: recorded, not retried
    ├── SyncError
    │   └── SyncLockedError    the same sync is already running (transient)
    └── NotFoundError          an unknown segment/model/sync/customer/request name

`transient` on an instance says whether retrying the same call may succeed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CDPError",
    "ConfigError",
    "StoreError",
    "StoreBusyError",
    "MasterKeyError",
    "IngestError",
    "RejectedRowsError",
    "Location",
    "RuleError",
    "RuleSyntaxError",
    "RuleCheckError",
    "ModelError",
    "PrivacyError",
    "ConsentLedgerError",
    "GateRefusal",
    "DestinationError",
    "TransientDestinationError",
    "TerminalDestinationError",
    "SyncError",
    "SyncLockedError",
    "NotFoundError",
]


class CDPError(Exception):
    """Base of every error this project raises on purpose.

    ``hint`` says how to fix the problem; ``transient`` whether a retry may help.
    """

    transient: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.detail = message
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        return self.detail if not self.hint else f"{self.detail}\n  hint: {self.hint}"


class ConfigError(CDPError):
    """cdp.toml is invalid. ``key`` is the dotted key, ``file``/``line`` where it is."""

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        file: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.key = key
        self.file = file
        self.line = line
        where = ""
        if file:
            where = f"{file}:{line}: " if line else f"{file}: "
        keypart = f"[{key}] " if key else ""
        super().__init__(f"{where}{keypart}{message}", hint=hint)


class StoreError(CDPError):
    """The analytic store cannot be opened or migrated."""


class StoreBusyError(StoreError):
    """Another process holds the store; waiting longer or re-running later helps."""

    transient = True


class MasterKeyError(CDPError):
    """The master key is missing, malformed or does not open the key store."""


class IngestError(CDPError):
    """Ingestion failed as a whole (a source cannot be read, a mapping is wrong)."""

    def __init__(self, message: str, *, source: str | None = None, hint: str | None = None) -> None:
        self.source = source
        super().__init__(f"source '{source}': {message}" if source else message, hint=hint)


class RejectedRowsError(IngestError):
    """``--strict`` and rows were rejected; nothing was written."""

    def __init__(self, count: int, *, first: str | None = None, source: str | None = None) -> None:
        self.count = count
        self.first = first
        msg = f"{count} row(s) rejected under --strict; nothing was written"
        if first:
            msg += f" (first: {first})"
        super().__init__(msg, source=source, hint="fix the rows listed by `cdp status` or run without --strict")


@dataclass(frozen=True)
class Location:
    """A position in a rule file (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class RuleError(CDPError):
    """An error in a segment rule file, rendered as file:line:col, the line and a caret.

    Fields: ``location``, ``name`` (the unknown or offending name, if any),
    ``expected`` (what the parser expected), ``suggestion`` (did-you-mean), ``source_line``.
    """

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        source_line: str | None = None,
        name: str | None = None,
        expected: str | None = None,
        suggestion: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.location = location
        self.source_line = source_line
        self.name = name
        self.expected = expected
        self.suggestion = suggestion
        text = message
        if suggestion:
            text += f"; did you mean '{suggestion}'?"
        if expected:
            text += f" (expected {expected})"
        if location is not None:
            text = f"{location}: {text}"
            if source_line is not None:
                caret = " " * max(location.col - 1, 0) + "^"
                text += f"\n    {source_line.rstrip()}\n    {caret}"
        super().__init__(text, hint=hint)


class RuleSyntaxError(RuleError):
    """The text does not parse."""


class RuleCheckError(RuleError):
    """The text parses but is wrong: unknown names, types, cycles, purposes, models."""


class ModelError(CDPError):
    """A model cannot be trained, loaded or scored."""

    def __init__(self, message: str, *, model: str | None = None, hint: str | None = None) -> None:
        self.model = model
        super().__init__(f"model '{model}': {message}" if model else message, hint=hint)


class PrivacyError(CDPError):
    """A privacy rule forbids the action."""


class ConsentLedgerError(PrivacyError):
    """The consent ledger does not verify; ``seq`` is the first bad sequence number."""

    def __init__(self, message: str, *, seq: int | None = None, hint: str | None = None) -> None:
        self.seq = seq
        super().__init__(f"consent ledger: {message}" + (f" at seq {seq}" if seq is not None else ""), hint=hint)


class GateRefusal(PrivacyError):
    """The release gate refused the whole audience; ``reason`` is a short code."""

    def __init__(self, message: str, *, reason: str, hint: str | None = None) -> None:
        self.reason = reason
        super().__init__(message, hint=hint)


class DestinationError(CDPError):
    """A destination platform refused or failed a request.

    ``status`` is the HTTP status, ``code`` the platform's own error code, ``platform``
    the destination kind. Messages carry the platform's message, never identifiers.
    """

    def __init__(
        self,
        message: str,
        *,
        platform: str | None = None,
        status: int | None = None,
        code: str | int | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        self.platform = platform
        self.status = status
        self.code = code
        self.retry_after = retry_after
        prefix = f"{platform}: " if platform else ""
        suffix = f" (HTTP {status}" + (f", code {code}" if code is not None else "") + ")" if status else ""
        super().__init__(f"{prefix}{message}{suffix}", hint=hint)


class TransientDestinationError(DestinationError):
    """Throttling, 5xx or a timeout: retried with backoff."""

    transient = True


class TerminalDestinationError(DestinationError):
    """A 4xx other than throttling: the batch fails, the run goes on, ends partial."""


class SyncError(CDPError):
    """A sync cannot run (unknown sync, purpose not declared by the segment, ...)."""


class SyncLockedError(SyncError):
    """The same sync is already running in another process."""

    transient = True


class NotFoundError(CDPError):
    """An unknown name: segment, model, sync, destination, source, customer, request."""

    def __init__(self, kind: str, name: str, *, suggestion: str | None = None, hint: str | None = None) -> None:
        self.kind = kind
        self.name = name
        self.suggestion = suggestion
        msg = f"unknown {kind} '{name}'"
        if suggestion:
            msg += f"; did you mean '{suggestion}'?"
        super().__init__(msg, hint=hint)
