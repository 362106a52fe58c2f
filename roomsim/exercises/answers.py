"""Reading a student's answer one way everywhere: documented types, clear refusals.

Every check parses its answer with these functions, so the same answer is read
the same way in every exercise: a whole number may be written ``4`` or
``4.0`` but ``2.9`` is refused (never truncated), a set of names may be any
collection of strings but not a single string, and so on.  A wrong type
raises :class:`AnswerError`, whose message the check shows as the verdict.

Examples
--------
>>> whole_number(4.0)
4
>>> whole_number(2.9)
Traceback (most recent call last):
...
roomsim.exercises.answers.AnswerError: give a whole number: 2.9 is not one (nothing is rounded)
>>> sorted(names(["bob", "alice"], known={"alice", "bob", "carol"}))
['alice', 'bob']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from numbers import Integral, Real
from typing import Any

__all__ = [
    "AnswerError",
    "describe",
    "function",
    "keyed",
    "names",
    "ordered_texts",
    "pair_of_numbers",
    "text",
    "whole_number",
]


class AnswerError(ValueError):
    """An answer of the wrong type or shape; the message says what was expected."""


def describe(value: Any) -> str:
    """A short, deterministic description of ``value`` for a message."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{shown} (a {type(value).__name__})"


def whole_number(value: Any, what: str = "the answer") -> int:
    """``value`` as an ``int``: an integer, or a float with nothing after the point.

    Booleans, strings, ``None`` and numbers with a fraction are refused.

    Examples
    --------
    >>> whole_number(7), whole_number(7.0)
    (7, 7)
    >>> whole_number("7")
    Traceback (most recent call last):
    ...
    roomsim.exercises.answers.AnswerError: the answer: give a whole number ..., not '7' (a str)
    """
    if isinstance(value, bool) or value is None or not isinstance(value, Real):
        raise AnswerError(f"{what}: give a whole number such as 4, not {describe(value)}")
    if isinstance(value, Integral):
        return int(value)
    number = float(value)
    if not math.isfinite(number) or not number.is_integer():
        prefix = "" if what == "the answer" else f"{what}: "
        raise AnswerError(f"{prefix}give a whole number: {value!r} is not one (nothing is rounded)")
    return int(number)


def pair_of_numbers(value: Any, what: str = "the answer") -> tuple[int, int]:
    """Two whole numbers, as a tuple or list of two.

    Examples
    --------
    >>> pair_of_numbers([2, 1.0])
    (2, 1)
    """
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise AnswerError(f"{what}: give a pair such as (2, 1), not {describe(value)}")
    items = list(value)
    if len(items) != 2:
        raise AnswerError(f"{what}: give exactly two numbers, such as (2, 1), not {len(items)}")
    return whole_number(items[0], what), whole_number(items[1], what)


def names(value: Any, known: Collection[str] | None = None, what: str = "the answer") -> set[str]:
    """A set of names from any collection of strings (set, list, tuple).

    A single string is refused (``"alice"`` is not ``{"alice"}``); so are
    non-strings inside, and names not in ``known`` (when given).
    """
    if isinstance(value, (str, bytes)):
        raise AnswerError(
            f"{what}: give a set of names such as {{'alice'}}, not the string {value!r}"
        )
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise AnswerError(f"{what}: give a set of names such as {{'alice'}}, not {describe(value)}")
    items = list(value)
    odd = [item for item in items if not isinstance(item, str)]
    if odd:
        raise AnswerError(f"{what}: each name is a string, such as 'alice', not {describe(odd[0])}")
    found = set(items)
    if known is not None:
        unknown = sorted(found - set(known))
        if unknown:
            raise AnswerError(
                f"{what}: no {unknown[0]!r} here; the names are {', '.join(sorted(known))}"
            )
    return found


def ordered_texts(value: Any, known: Collection[str], what: str = "the answer") -> list[str]:
    """A list (or tuple) of strings, in order; a set is refused because it has no order."""
    if isinstance(value, (set, frozenset)):
        raise AnswerError(
            f"{what}: give a list, such as ['one'], not a set: the order matters and a set has none"
        )
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise AnswerError(f"{what}: give a list of texts such as ['one'], not {describe(value)}")
    items = list(value)
    odd = [item for item in items if not isinstance(item, str)]
    if odd:
        raise AnswerError(f"{what}: each text is a string, such as 'one', not {describe(odd[0])}")
    unknown = [item for item in items if item not in known]
    if unknown:
        raise AnswerError(f"{what}: no text {unknown[0]!r}; the texts are {', '.join(known)}")
    return items


def keyed(value: Any, keys: Collection[str], example: str) -> dict[str, Any]:
    """A dict with exactly ``keys`` (strings); ``example`` shows the expected shape."""
    if not isinstance(value, Mapping):
        raise AnswerError(f"give a dict such as {example}, not {describe(value)}")
    given = {str(k): v for k, v in value.items()}
    if set(given) != set(keys):
        missing = [k for k in keys if k not in given]
        extra = sorted(set(given) - set(keys))
        said = f"missing {', '.join(map(repr, missing))}" if missing else f"no key {extra[0]!r}"
        raise AnswerError(f"the dict has the keys {', '.join(map(repr, keys))} ({said}): {example}")
    return given


def text(value: Any, what: str = "the answer") -> str:
    """A string."""
    if not isinstance(value, str):
        raise AnswerError(f"{what}: give a string, not {describe(value)}")
    return value


def function(value: Any, example: str) -> Callable[..., Any]:
    """A function (anything callable that is not a class)."""
    if not callable(value) or isinstance(value, type):
        raise AnswerError(f"give the function itself, {example}, not {describe(value)}")
    return value
