"""Classroom exercises: a task in a notebook, a check here that says right or wrong.

Students call :func:`check_answer` with the exercise's id and their answer::

    from roomsim.exercises import check_answer
    check_answer("02.1", {"alice", "carol"})

and see ``Right`` or ``Not yet`` with a hint.  (``roomsim.check(trace)`` is
another thing: it checks a trace against Socket.IO's rules.)  Each check
works the right answer out by running a simulation, so it cannot drift from
the simulator.  Exercises live in one module per notebook (``nb02``,
``nb03``, ...), which register themselves with :func:`exercise`.

The rules every check follows:

- answers are read by :mod:`roomsim.exercises.answers`, one way everywhere;
  a wrong type gets a message saying what was expected;
- a student's handler runs under a bound (:mod:`roomsim.exercises.bounds`):
  one that never finishes gets a hint, not a hung kernel;
- hints explain the rule that was missed and never name what is missing;
  after :data:`NARROWING_TRIES` wrong tries they say so and stop narrowing;
- verdicts do not depend on ``PYTHONHASHSEED``;
- with ``variant=`` (see :func:`variant`) an exercise that supports it is
  played with that student's names, rooms and times.

Examples
--------
>>> from roomsim.exercises import check_answer, exercises
>>> "00.1" in exercises()
True
>>> check_answer("00.1", 4)
Right: 2 + 2 is 4.
>>> check_answer("00.1", 5)
Not yet: count again on your fingers.
>>> check_answer("00.1", "4")
Not yet: the answer: give a whole number such as 4, not '4' (a str)
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from roomsim.exercises.answers import AnswerError
from roomsim.exercises.bounds import NeverFinished
from roomsim.exercises.variants import Variant, variant

__all__ = [
    "NARROWING_TRIES",
    "AnswerError",
    "Exercise",
    "NeverFinished",
    "Result",
    "Variant",
    "check_answer",
    "exercise",
    "exercises",
    "forget_tries",
    "scenario",
    "variant",
]

#: After this many wrong tries of one exercise, hints stop narrowing the answer down.
NARROWING_TRIES = 3


@dataclass(frozen=True)
class Result:
    """The verdict on an answer: ``ok`` and a message (a hint when wrong)."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return f"{'Right' if self.ok else 'Not yet'}: {self.message}"

    def _repr_html_(self) -> str:
        # dark blue and dark orange (Okabe-Ito), with a glyph and a word: not colour alone
        colour = "#0b5394" if self.ok else "#a04000"
        mark = "✔ Right" if self.ok else "✘ Not yet"
        return f'<span style="color:{colour}"><b>{mark}</b>: {self.message}</span>'


@dataclass(frozen=True)
class Exercise:
    """One exercise: its id (``"02.1"``), title, check, the answer's type and its rule.

    ``answer`` says what to give (shown when the type is wrong); ``rule`` is
    the hint once hints stop narrowing; ``takes_variant`` tells whether the
    check plays a student's :class:`Variant`.
    """

    id: str
    title: str
    check: Callable[..., Result]
    answer: str = ""
    rule: str = ""
    takes_variant: bool = False
    scenario: Callable[[Variant], str] | None = None


_EXERCISES: dict[str, Exercise] = {}
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_TRIES: Counter[tuple[str, str]] = Counter()


def exercise(
    exercise_id: str,
    title: str,
    *,
    answer: str = "",
    rule: str = "",
    takes_variant: bool = False,
    scenario: Callable[[Variant], str] | None = None,
) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Register a check ``check(answer) -> Result`` (``check(answer, variant)`` when
    ``takes_variant``) under ``exercise_id``."""

    def register(fn: Callable[..., Result]) -> Callable[..., Result]:
        if exercise_id in _EXERCISES:
            raise ValueError(f"exercise {exercise_id!r} is registered twice")
        _EXERCISES[exercise_id] = Exercise(
            exercise_id, title, fn, answer, rule, takes_variant, scenario
        )
        return fn

    return register


def _load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("nb"):
            importlib.import_module(f"{__name__}.{info.name}")


def exercises() -> dict[str, Exercise]:
    """Every exercise, by id."""
    _load_all()
    return dict(sorted(_EXERCISES.items()))


def scenario(exercise_id: str, variant: Variant | str | None = None) -> str:
    """The task of ``exercise_id`` as ``variant`` plays it (names, rooms, times).

    Examples
    --------
    >>> print(scenario("02.1"))  # doctest: +ELLIPSIS
    On one node: alice is in 'a'; bob is in 'a', 'b'; ...
    """
    found = exercises().get(exercise_id)
    if found is None or found.scenario is None:
        raise KeyError(f"exercise {exercise_id!r} has no per-student variant")
    chosen = variant if isinstance(variant, Variant) else _variant_of(variant)
    return found.scenario(chosen)


def forget_tries() -> None:
    """Forget how many times each exercise was tried (a fresh start, as a new kernel)."""
    _TRIES.clear()


def _judge(found: Exercise, answer: Any, chosen: Variant) -> tuple[Result, bool]:
    """The verdict, and whether it is a hint about the content (a wrong type is not)."""
    try:
        if found.takes_variant:
            return found.check(answer, chosen), True
        return found.check(answer), True
    except AnswerError as err:
        return Result(False, str(err)), False
    except NeverFinished as err:
        return Result(False, str(err)), False
    except Exception as err:  # the student's own code raised: say so, with the reason
        return Result(False, f"your code raised {err.__class__.__name__}: {err}"), False


def _steady(result: Result) -> Result:
    """The result without memory addresses (``<... at 0x7f...>``): the same in every run."""
    message = _ADDRESS.sub("", result.message)
    return result if message == result.message else Result(result.ok, message)


def check_answer(exercise_id: str, answer: Any, *, variant: Variant | str | None = None) -> Result:
    """Check ``answer`` to exercise ``exercise_id``; the result says right or wrong.

    ``variant`` is a :class:`Variant` or a student id: exercises that take a
    variant are played with that student's names, rooms and times.
    """
    if not isinstance(exercise_id, str):
        raise TypeError(
            "check_answer(exercise_id, answer) checks an exercise answer, such as"
            " check_answer('02.1', {'alice'}); to check a trace against Socket.IO's rules,"
            " call roomsim.check(trace)."
        )
    found = exercises().get(exercise_id)
    if found is None:
        known = ", ".join(exercises())
        raise KeyError(f"no exercise {exercise_id!r}; exercises are {known}")
    chosen = variant if isinstance(variant, Variant) else _variant_of(variant)
    result, about_content = _judge(found, answer, chosen)
    result = _steady(result)
    key = (exercise_id, chosen.student_id)
    if result.ok:
        _TRIES.pop(key, None)
        return result
    if not about_content:
        return result
    _TRIES[key] += 1
    tries = _TRIES[key]
    if tries > NARROWING_TRIES and found.rule:
        return Result(
            False,
            f"try {tries}, not right yet. The hints stop here so as not to give the answer"
            f" away: {found.rule} Work it out from that rule (run the simulation and read"
            " its trace), or ask.",
        )
    return result


def _variant_of(student_id: str | None) -> Variant:
    return variant(student_id)
