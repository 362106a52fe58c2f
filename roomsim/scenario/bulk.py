"""Building many objects at once: 100,000 clients, say."""

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the garbage collector: building 100,000 objects that all stay
    alive otherwise sets off collection after collection (3 times slower)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
