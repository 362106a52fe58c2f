"""socket.io-client's reconnection: exponential backoff with jitter.

After an unexpected disconnection (``transport close``, ``ping timeout``,
``transport error``) a client with ``reconnection`` on tries again after
``reconnection_delay * 2**attempt`` ms, jittered by ``randomization_factor``
and capped at ``reconnection_delay_max``; a success resets the count.  The
count goes on however long a node stays down, and the delay never overflows:
past :data:`MAX_DOUBLINGS` attempts it stops growing (it is long past any cap
by then), as socket.io-client's reaches ``Infinity`` and is capped.  A
disconnection the client or the server asked for (``io client disconnect``,
``io server disconnect``) is not retried.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

__all__ = ["MAX_DOUBLINGS", "RETRIED_REASONS", "Backoff"]

#: the delay doubles with each attempt up to this many attempts, then stays
MAX_DOUBLINGS = 1000
_HUGE = 1e300  # a finite ceiling before the jitter: its arithmetic stays finite

#: client-side reasons after which socket.io-client reconnects by itself
RETRIED_REASONS = frozenset({"transport close", "transport error", "ping timeout", "parse error"})


@dataclass
class Backoff:
    """The delays between reconnection attempts, as socket.io-client computes them.

    Examples
    --------
    >>> b = Backoff(1000, 5000, 0.0, random.Random(0))
    >>> [b.duration() for _ in range(5)]
    [1000, 2000, 4000, 5000, 5000]
    >>> b.reset(); b.duration()
    1000
    >>> b.attempts = 5000; b.duration()  # a node down for hours: capped, no overflow
    5000
    """

    min_ms: float = 1000.0
    max_ms: float = 5000.0
    jitter: float = 0.5
    stream: random.Random | None = None
    attempts: int = 0

    def duration(self) -> int:
        """The next delay, in whole ms; each call counts one attempt."""
        ms = min(self.min_ms * 2.0 ** min(self.attempts, MAX_DOUBLINGS), _HUGE)
        self.attempts += 1
        if self.jitter and self.stream is not None:
            rand = self.stream.random()
            deviation = math.floor(rand * self.jitter * ms)
            ms = ms - deviation if (math.floor(rand * 10) & 1) == 0 else ms + deviation
        return int(min(ms, self.max_ms))

    def reset(self) -> None:
        """A connection succeeded: start again from the shortest delay."""
        self.attempts = 0
