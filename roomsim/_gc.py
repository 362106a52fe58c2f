"""The garbage collector around building many objects that all stay alive.

A large run makes millions of objects at once (a group's clients, their
sockets and room entries) that live until the run ends.  Left to itself the
collector looks at each of them again and again: while they are being made
(every few hundred allocations) and afterwards, on every collection of the
generation they have reached.  Two tools here keep it from doing so:

- :func:`gc_paused` pauses collection while a batch of objects is made;
- inside :func:`long_lived` (a whole run), :func:`settle` moves every object
  alive at that moment out of the collector's sight (``gc.freeze``) once a
  batch is made; when the outermost :func:`long_lived` block ends they are
  handed back (``gc.unfreeze``), so a finished run is collected as usual.

A process that ends when its command does (the ``roomsim`` command line)
calls :func:`for_process` first: what a run froze then stays frozen until
the process exits, which spares the collector a last look at millions of
objects on the way out (about a second for a million clients).

Nothing changes what a run computes: only when the collector runs.  If
something else already uses the frozen generation (``gc.freeze`` before a
``fork``, say), :func:`long_lived` leaves it alone and :func:`settle` does
nothing.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["for_process", "gc_paused", "long_lived", "settle"]

_depth = 0  # nesting of long_lived blocks that may freeze
_froze = False  # whether settle froze anything since the outermost one began
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
    ...     settle()
    ...     gc.get_freeze_count() > 0
    True
    >>> gc.get_freeze_count()
    0
    """
    global _depth, _froze
    if _depth == 0 and gc.get_freeze_count():  # someone else's frozen objects
        yield
        return
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _froze and _hand_back:
            _froze = False
            gc.unfreeze()


def settle() -> None:
    """After a batch of long-lived objects: take them out of later collections.

    Does nothing outside :func:`long_lived` (a cluster driven by hand keeps
    the collector's usual behaviour).
    """
    global _froze
    if _depth:
        gc.freeze()
        _froze = True


def for_process() -> None:
    """This process ends with its command: keep frozen what runs froze till exit."""
    global _hand_back
    _hand_back = False
