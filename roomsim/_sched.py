"""Small helpers for scheduling plain callbacks on a SimPy environment.

Most of roomsim's work is "do this later": a packet arrives after a link's
latency, the broker hands a copy to a node after a hop.  A SimPy
:class:`~simpy.events.Timeout` with a callback does that without the cost of a
generator-based process.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import struct
from collections.abc import Callable, Generator, Iterator
from typing import Any

import simpy
from simpy.events import Timeout

__all__ = [
    "call_at",
    "call_later",
    "delay_until",
    "one_event_per_instant",
    "reachable",
    "run_handler",
]

#: per environment with an open :func:`one_event_per_instant` block: its calls,
#: by instant (an environment is driven by one thread; several may run at once)
_collecting: dict[simpy.Environment, dict[float, tuple[float, list[Any]]]] = {}


def call_later(
    env: simpy.Environment, delay: float, fn: Callable[..., Any], *args: Any
) -> Timeout | None:
    """Call ``fn(*args)`` after ``delay`` ms of simulated time.

    Events due at the same time run in the order they were scheduled.  Inside
    :func:`one_event_per_instant` the call joins the block's event for its
    instant (and None is returned).

    Examples
    --------
    >>> env = simpy.Environment()
    >>> seen = []
    >>> _ = call_later(env, 5, seen.append, "b")
    >>> _ = call_later(env, 1, seen.append, "a")
    >>> env.run()
    >>> seen, env.now
    (['a', 'b'], 5)
    """
    if _collecting:
        collected = _collecting.get(env)
        if collected is not None:
            if delay < 0:
                raise ValueError(f"negative delay {delay}")
            at = env.now + delay
            due = collected.get(at)
            if due is None:
                collected[at] = (delay, [(fn, args)])
            else:
                due[1].append((fn, args))
            return None
    event = Timeout(env, delay)
    event.callbacks.append(lambda _event: fn(*args))
    return event


@contextlib.contextmanager
def one_event_per_instant(env: simpy.Environment) -> Iterator[None]:
    """Inside the block, the calls :func:`call_later` schedules for one instant
    share one event, which makes its calls in the order they were scheduled
    (itself inside such a block).

    The order of everything is that of one event per call as long as the
    block and its calls make SimPy events only through :func:`call_later`
    and :func:`call_at` (a process, a bare ``env.timeout`` or an interrupt
    would run before calls collected earlier) and no call raises.  That
    holds for a bulk connection's subscription commands, where a million
    events become a few.

    Examples
    --------
    >>> env = simpy.Environment()
    >>> seen = []
    >>> with one_event_per_instant(env):
    ...     for name in "abc":
    ...         _ = call_later(env, 2, seen.append, name)
    >>> len(env._queue)
    1
    >>> env.run(); seen
    ['a', 'b', 'c']
    """
    if env in _collecting:  # an outer block collects
        yield
        return
    due: dict[float, tuple[float, list[Any]]] = {}
    _collecting[env] = due
    try:
        yield
    finally:
        del _collecting[env]
        for delay, calls in due.values():  # in the order of their first call
            if len(calls) == 1:
                fn, args = calls[0]
                call_later(env, delay, fn, *args)
            else:
                call_later(env, delay, _make_all, env, calls)


def _make_all(env: simpy.Environment, calls: list[Any]) -> None:
    with one_event_per_instant(env):
        for fn, args in calls:
            fn(*args)


def delay_until(now: float, at: float) -> float:
    """The smallest delay ``d >= 0`` for which ``now + d >= at`` in floating point.

    ``at - now`` is not that delay: ``now + (at - now)`` can differ from
    ``at`` in the last bit, either way, so two packets meant to arrive at
    the same instant could be due at different times, the later one first.
    Some instants cannot be reached from ``now`` at all; then ``now + d`` is
    the first one after ``at`` that can (see :func:`reachable`).

    Examples
    --------
    >>> now, at = 11.848902120022318, 29.90021669219998   # no d gives exactly at
    >>> now + (at - now) < at, now + delay_until(now, at) > at
    (True, True)
    >>> now + delay_until(now, 20.0) == 20.0
    True
    """
    if at <= now:
        return 0.0
    d = at - now
    if now + d < at:  # short by a few units in the last place: step up
        while now + d < at:
            d = math.nextafter(d, math.inf)
        return d
    if now + math.nextafter(d, 0.0) < at:  # the common case: d is the smallest
        return d
    # Many delays reach the same instant (now is much larger than d): find the
    # smallest by bisection over the floats, in the order of their bits.
    step = math.ulp(at)
    low = d - step
    while low > 0.0 and now + low >= at:
        step *= 2
        low = d - step
    lo, hi = _bits(max(low, 0.0)), _bits(d)  # now + lo < at <= now + hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if now + _float(mid) >= at:
            hi = mid
        else:
            lo = mid
    return _float(hi)


def _bits(x: float) -> int:
    """The bits of a float >= 0 as an integer: larger floats, larger integers."""
    return int.from_bytes(struct.pack("<d", x), "little")


def _float(bits: int) -> float:
    return struct.unpack("<d", bits.to_bytes(8, "little"))[0]


def reachable(now: float, at: float) -> float:
    """The first instant at or after ``at`` that an event scheduled at ``now`` can have.

    Give a first-in, first-out link this time as its last arrival: the next
    packet's time is then never earlier, and packets due at the same instant
    run in the order they were scheduled.

    Examples
    --------
    >>> reachable(11.848902120022318, 29.90021669219998)
    29.900216692199983
    >>> reachable(2.0, 7.5), reachable(9.0, 7.5)
    (7.5, 9.0)
    """
    return now + delay_until(now, at)


def call_at(
    env: simpy.Environment, at: float, fn: Callable[..., Any], *args: Any
) -> Timeout | None:
    """Call ``fn(*args)`` at ``reachable(env.now, at)``: at ``at`` when it can be
    (None inside :func:`one_event_per_instant`, as :func:`call_later`).

    Examples
    --------
    >>> env = simpy.Environment()
    >>> seen = []
    >>> _ = call_at(env, 2.5, lambda: seen.append(env.now))
    >>> env.run()
    >>> seen
    [2.5]
    """
    return call_later(env, delay_until(env.now, at), fn, *args)


def run_handler(env: simpy.Environment, handler: Callable[..., Any], *args: Any) -> Any:
    """Call an event handler; if it is a generator, go on with it as a SimPy process.

    Like an ``async`` handler in Socket.IO, a generator handler runs at once
    up to its first ``yield`` (so it still sees the state it was called in),
    then goes on in the background each time the event it yields happens.

    Examples
    --------
    >>> env = simpy.Environment()
    >>> def slow(name):
    ...     print(name, "starts at", env.now)
    ...     yield env.timeout(3)
    ...     print(name, "done at", env.now)
    >>> _ = run_handler(env, slow, "lookup")
    lookup starts at 0
    >>> env.run()
    lookup done at 3
    """
    result = handler(*args)
    if not inspect.isgenerator(result):
        return result
    try:
        first = next(result)
    except StopIteration as stop:
        return stop.value
    return env.process(_resume(result, first))


def _resume(gen: Generator[Any, Any, Any], event: Any) -> Generator[Any, Any, Any]:
    """Drive a generator that has already run up to its first yield."""
    while True:
        try:
            value = yield event
        except BaseException as exc:  # an interrupt: hand it to the handler
            try:
                event = gen.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                event = gen.send(value)
            except StopIteration as stop:
                return stop.value
