"""Running a student's code under a bound: simulated time and a wall-clock limit.

A handler with a periodic loop keeps the simulation busy for ever, and a
``while True: pass`` never gives control back.  :func:`run_bounded` steps the
simulation itself, stops at a simulated-time bound and a wall-clock limit,
and raises :class:`NeverFinished`, which a check turns into a hint instead of
a hung kernel.

Examples
--------
>>> from roomsim.cluster import Cluster
>>> sim = Cluster(nodes=1)
>>> def ticker(env):
...     while True:
...         yield env.timeout(100)
>>> _ = sim.process(ticker)
>>> run_bounded(sim, until=1000)
Traceback (most recent call last):
...
roomsim.exercises.bounds.NeverFinished: the simulation still had work to do at t=1000 ms...
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["SIM_LIMIT_MS", "WALL_LIMIT_S", "NeverFinished", "run_bounded"]

#: How far in simulated time a check lets a run go (ms) when it must finish by itself.
SIM_LIMIT_MS = 5000.0
#: How long in real time a check lets the student's code run (seconds).
WALL_LIMIT_S = 5.0

_ADVICE = (
    " A handler should register its listeners and return; a loop that never ends"
    " (while True, a periodic timer) keeps the run from finishing."
)


class NeverFinished(Exception):
    """The student's code did not finish within the bound."""


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Interrupt pure-Python code that never yields (main thread, POSIX only)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise NeverFinished(
            f"your code was still running after {seconds:g} s of real time and was stopped."
            + _ADVICE
        )

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_bounded(
    sim: Any, until: float = SIM_LIMIT_MS, *, must_finish: bool = True, wall_s: float | None = None
) -> None:
    """Run ``sim`` to its end, at most to ``until`` ms and ``wall_s`` seconds.

    With ``must_finish`` a run that still has work at ``until`` raises
    :class:`NeverFinished`; without it the run simply stops there (as
    ``sim.run(until=...)`` does).
    """
    limit = WALL_LIMIT_S if wall_s is None else wall_s
    env = sim.env
    deadline = time.monotonic() + limit
    with _alarm(limit):
        while True:
            upcoming = env.peek()
            if upcoming == math.inf:
                return
            if upcoming > until:
                if must_finish:
                    raise NeverFinished(
                        f"the simulation still had work to do at t={until:g} ms: your handler"
                        " never finished." + _ADVICE
                    )
                env.run(until=until)
                return
            env.step()
            if time.monotonic() > deadline:
                raise NeverFinished(
                    f"the simulation was still running after {limit:g} s of real time"
                    f" (simulated t={env.now:g} ms): your handler never finished." + _ADVICE
                )
