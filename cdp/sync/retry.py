"""Retries of one batch: exponential backoff with full jitter (tenacity), by error type.

Only errors marked ``transient`` (throttling, 5xx, timeouts, garbage answers) are
retried; a platform's ``Retry-After`` is honoured (capped by ``backoff_max``); anything
else is raised at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from cdp.errors import CDPError

__all__ = ["call_with_retry"]

T = TypeVar("T")


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, CDPError) and exc.transient


def call_with_retry(
    fn: Callable[[], T],
    *,
    attempts: int,
    backoff_base: float,
    backoff_max: float,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[BaseException, float], None] | None = None,
) -> tuple[T, int]:
    """Call ``fn`` until it succeeds or a terminal error; returns (result, attempts used)."""
    jitter = wait_random_exponential(multiplier=backoff_base, max=backoff_max)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        delay = min(float(after), backoff_max) if after is not None else float(jitter(state))
        if on_retry is not None and exc is not None:
            on_retry(exc, delay)
        return delay

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait,
        retry=retry_if_exception(_is_transient),
        reraise=True,
        sleep=sleep,
    )
    used = 0
    for attempt in retrying:
        with attempt:
            used = attempt.retry_state.attempt_number
            result: Any = fn()
    return result, used
