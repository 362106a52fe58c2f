"""The garbage collector around building many objects that all stay alive.

A large run makes millions of objects at once (a group's clients, their
sockets and room entries) that live until the run ends.  Left to itself the
collector looks at each of them again and again: while they are being made
(every few hundred allocations) and afterwards, on every collection of the
generation they have reached.  Two tools here keep it from doing so:

- :func:`gc_paused` pauses collection while a batch of objects is made;
- inside :func:`long_lived` (a whole run), :func:`settle` moves every object
  alive at that moment out of the collector's sight (``gc.freeze``) once a
  batch of at least :data:`FREEZE_AFTER` objects' owners (clients) is made;
  when the outermost :func:`long_lived` block ends they are handed back
  (``gc.unfreeze``), so a finished run is collected as usual.  (A cluster
  dropped just before a large run, and not yet collected, is frozen with
  it, and freed after it.)

A process that ends when its command does (the ``roomsim`` command line)
calls :func:`for_process` first: what the last run froze then stays frozen
until the process exits, which spares the collector a last look at millions
of objects on the way out (about a second for a million clients); a
command that runs several scenarios hands each run's objects back when the
next run begins.

Nothing changes what a run computes: only when the collector runs.  If
something else already uses the frozen generation (``gc.freeze`` before a
``fork``, say), :func:`long_lived` leaves it alone and :func:`settle` does
nothing.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["FREEZE_AFTER", "for_process", "gc_paused", "long_lived", "settle"]

#: the smallest batch (clients connected at once) that :func:`settle` freezes:
#: small runs (notebooks, tests) keep the collector's usual behaviour
FREEZE_AFTER = 10_000

_lock = threading.Lock()
_depth = 0  # long_lived blocks open (in any thread) that may freeze
_froze = False  # whether the frozen generation holds what settle froze
_hand_back = True  # unfreeze when the outermost long_lived block ends


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the garbage collector: building 100,000 objects that all stay
    alive otherwise sets off collection after collection (3 times slower).

    Examples
    --------
    >>> import gc
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """A block (a run) whose bulk-built objects :func:`settle` may freeze.

    On leaving the outermost block, whatever :func:`settle` froze is handed
    back to the collector's oldest generation.

    Examples
    --------
    >>> import gc
    >>> with long_lived():
    ...     kept = [[] for _ in range(10)]
    ...     settle(FREEZE_AFTER)
    ...     gc.get_freeze_count() > 0
    True
    >>> gc.get_freeze_count()
    0
    """
    global _depth, _froze
    with _lock:
        if _depth == 0 and _froze:  # the previous run's, kept by for_process: back now,
            _froze = False  # and collected before this run's freeze could keep them
            gc.unfreeze()
            gc.collect()
        if _depth == 0 and gc.get_freeze_count():  # someone else's frozen objects
            mine = False
        else:
            mine = True
            _depth += 1
    if not mine:
        yield
        return
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _froze and _hand_back:
                _froze = False
                gc.unfreeze()


def settle(batch: int) -> None:
    """After ``batch`` long-lived objects' owners were made: take everything
    alive out of later collections, if ``batch`` >= :data:`FREEZE_AFTER`.

    Does nothing outside :func:`long_lived` (a cluster driven by hand keeps
    the collector's usual behaviour).
    """
    global _froze
    if batch >= FREEZE_AFTER and _depth:
        with _lock:
            gc.freeze()
            _froze = True


def for_process() -> None:
    """This process ends with its command: keep frozen what the last run froze
    until exit (an earlier run's is handed back when the next one begins)."""
    global _hand_back
    _hand_back = False
