"""File destination: CSV or Parquet per run in a folder, hashed identifiers only.

For a manual upload to a platform without an API. Each batch is one file
``{path}/{sync}/run-{run:06d}/{op}-{batch:05d}.{csv|parquet}`` with the columns
``customer_id``, ``email_sha256`` (trimmed, lower-cased), ``phone_sha256`` (E.164 with
``+``); removals carry ``customer_id`` and ``reason``. Files are written to a temporary
name and renamed, so a retried or resumed batch replaces its file instead of duplicating
rows.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, ClassVar

from cdp.errors import ConfigError, TerminalDestinationError
from connectors.destinations.base import Batch, BatchResult, Contact, Destination
from connectors.destinations.hashing import email_lower, phone_e164, sha256_hex

__all__ = ["FileDestination"]


class FileDestination(Destination):
    kind: ClassVar[str] = "file"
    limits: ClassVar[dict[str, int]] = {"add": 100_000, "remove": 100_000}
    contact_fields: ClassVar[tuple[str, ...]] = ("email", "phone")
    default_channel: ClassVar[str] = "any"
    min_audience: ClassVar[int | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.format = str(self.settings.get("format", "csv"))
        if self.format not in ("csv", "parquet"):
            raise ConfigError("format must be csv or parquet", key=f"destinations.{self.name}.format")
        if not self.settings.get("path"):
            raise ConfigError("a file destination needs a path (folder)", key=f"destinations.{self.name}.path")
        self.folder = Path(str(self.settings["path"])).expanduser()

    def platform_key(self, contact: Contact) -> str | None:
        return contact.customer_id  # the receiver knows people by customer_id only

    def _rows(self, batch: Batch) -> list[dict[str, Any]]:
        rows = []
        for c in batch.members:
            if batch.op == "remove":
                rows.append({"customer_id": c.platform_key or c.customer_id, "reason": c.reason or "left"})
                continue
            email = email_lower(c.email)
            phone = phone_e164(c.phone)
            rows.append(
                {
                    "customer_id": c.customer_id,
                    "email_sha256": sha256_hex(email) if email else "",
                    "phone_sha256": sha256_hex(phone) if phone else "",
                }
            )
        return rows

    def request_body(self, batch: Batch, *, redact: bool = False) -> dict[str, Any]:
        return {"file": str(self.file_for(batch)), "rows": self._rows(batch)}

    def file_for(self, batch: Batch) -> Path:
        return self.folder / batch.sync / f"run-{batch.run_id:06d}" / f"{batch.op}-{batch.batch_no:05d}.{self.format}"

    def send(self, batch: Batch) -> BatchResult:
        self._check_started(batch)
        rows = self._rows(batch)
        target = self.file_for(batch)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(target.suffix + ".tmp")
            if self.format == "csv":
                columns = list(rows[0].keys()) if rows else ["customer_id"]
                with tmp.open("w", newline="", encoding="utf-8") as fh:
                    writer = csv.DictWriter(fh, fieldnames=columns)
                    writer.writeheader()
                    writer.writerows(rows)
            else:
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.Table.from_pylist(rows) if rows else pa.table({"customer_id": []}), tmp)
            os.replace(tmp, target)
        except OSError as exc:
            raise TerminalDestinationError(
                f"cannot write {target.name}: {exc.strerror}", platform=self.kind
            ) from exc
        return BatchResult(received=len(rows), counts={"rows_written": len(rows), "file": target.name})
