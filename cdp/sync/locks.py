"""A lock per sync in the store's ``locks`` table, with expiry, so two runs never overlap.

The store is not held open during a run (other commands must be able to work), so the
lock is a row: ``sync:<name>``, the holder (host, pid, a random tag) and an expiry that
the runner pushes forward after every batch (30 minutes). A lock whose holder process is gone (same
host, pid not alive) or whose expiry has passed is taken over.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cdp.errors import SyncLockedError

__all__ = ["DEFAULT_TTL", "acquire", "new_holder", "refresh", "release"]

DEFAULT_TTL = timedelta(minutes=30)  # longer than one batch's retries or a Google job poll


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_holder() -> str:
    """``host:pid:tag`` for this process and run."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_alive(holder: str) -> bool:
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine: trust the expiry
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire(con: Any, sync: str, holder: str, ttl: timedelta = DEFAULT_TTL) -> None:
    """Take the lock of ``sync`` or raise SyncLockedError naming since when it is held."""
    name = f"sync:{sync}"
    now = _now()
    con.execute("BEGIN TRANSACTION")
    try:
        row = con.execute("SELECT holder, acquired_at, expires_at FROM locks WHERE name = ?", [name]).fetchone()
        if row is not None and row[0] != holder and row[2] > now and _holder_alive(row[0]):
            con.execute("ROLLBACK")
            raise SyncLockedError(
                f"sync '{sync}' is already running (since {row[1]:%Y-%m-%d %H:%M:%S} UTC, "
                f"process {row[0].split(':')[1]})",
                hint="wait for it to finish (`cdp sync status` shows it), then run again",
            )
        con.execute("DELETE FROM locks WHERE name = ?", [name])
        con.execute("INSERT INTO locks VALUES (?, ?, ?, ?)", [name, holder, now, now + ttl])
        con.execute("COMMIT")
    except SyncLockedError:
        raise
    except Exception:
        con.execute("ROLLBACK")
        raise


def refresh(con: Any, sync: str, holder: str, ttl: timedelta = DEFAULT_TTL) -> None:
    """Push the expiry forward (after every batch)."""
    con.execute(
        "UPDATE locks SET expires_at = ? WHERE name = ? AND holder = ?", [_now() + ttl, f"sync:{sync}", holder]
    )


def release(con: Any, sync: str, holder: str) -> None:
    con.execute("DELETE FROM locks WHERE name = ? AND holder = ?", [f"sync:{sync}", holder])
