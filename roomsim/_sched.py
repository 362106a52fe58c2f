"""Small helpers for scheduling plain callbacks on a SimPy environment.

Most of roomsim's work is "do this later": a packet arrives after a link's
latency, the broker hands a copy to a node after a hop.  A SimPy
:class:`~simpy.events.Timeout` with a callback does that without the cost of a
generator-based process.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from typing import Any

import simpy
from simpy.events import Timeout

__all__ = ["call_later", "run_handler"]


def call_later(env: simpy.Environment, delay: float, fn: Callable[..., Any], *args: Any) -> Timeout:
    """Call ``fn(*args)`` after ``delay`` ms of simulated time.

    Events due at the same time run in the order they were scheduled.

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
    event = Timeout(env, delay)
    event.callbacks.append(lambda _event: fn(*args))
    return event


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
