"""Failed sign-ins counted per client address, so nobody guesses tokens at speed.

After ``limit`` unknown tokens from one address within ``window_s`` of the first of
them, that address gets 429 for every request that needs a token, a correct one
included, until the window has passed; a success resets nothing. A missing token
or an expired one is not a guess and is not counted.

Each backend process counts for itself (in memory, bounded: the oldest addresses go
first), so behind a load balancer over N processes an address has up to N × ``limit``
tries a window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import TTLCache

FAILURES_ALLOWED = 10
WINDOW_S = 60.0
MAX_ADDRESSES = 100_000


@dataclass(slots=True)
class _Failures:
    count: int
    window_ends: float


class SignInLimit:
    def __init__(self, limit: int = FAILURES_ALLOWED, window_s: float = WINDOW_S,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._window_s = window_s
        self._timer = timer
        # An entry expires window_s after it was made (counting into it does not renew it).
        self._failures: TTLCache[str, _Failures] = TTLCache(MAX_ADDRESSES, window_s, timer)

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until ``address`` may try again; None when it may now."""
        failures = self._failures.get(address)
        if failures is None or failures.count < self._limit:
            return None
        return max(1, math.ceil(failures.window_ends - self._timer()))

    def failed(self, address: str) -> None:
        failures = self._failures.get(address)
        if failures is None:
            self._failures[address] = _Failures(1, self._timer() + self._window_s)
        else:
            failures.count += 1
