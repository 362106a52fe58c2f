"""Classroom exercises: a task in a notebook, a check here that says right or wrong.

Students call :func:`check` with the exercise's id and their answer::

    from roomsim.exercises import check
    check("02.1", {"alice", "carol"})

and see ``Right`` or ``Not yet`` with a hint.  Each check works the right
answer out by running a simulation, so it cannot drift from the simulator.
Exercises live in one module per notebook (``nb02``, ``nb03``, ...), which
register themselves with :func:`exercise`.

Examples
--------
>>> from roomsim.exercises import check, exercises
>>> "00.1" in exercises()
True
>>> check("00.1", 4)
Right: 2 + 2 is 4.
>>> check("00.1", 5)
Not yet: count again on your fingers.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Exercise", "Result", "check", "exercise", "exercises"]


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
        colour = "#2e7d32" if self.ok else "#c62828"
        mark = "✔ Right" if self.ok else "✘ Not yet"
        return f'<span style="color:{colour}"><b>{mark}</b>: {self.message}</span>'


@dataclass(frozen=True)
class Exercise:
    """One exercise: its id (``"02.1"``), title, and check."""

    id: str
    title: str
    check: Callable[[Any], Result]


_EXERCISES: dict[str, Exercise] = {}


def exercise(
    exercise_id: str, title: str
) -> Callable[[Callable[[Any], Result]], Callable[[Any], Result]]:
    """Register a check function ``check(answer) -> Result`` under ``exercise_id``."""

    def register(fn: Callable[[Any], Result]) -> Callable[[Any], Result]:
        if exercise_id in _EXERCISES:
            raise ValueError(f"exercise {exercise_id!r} is registered twice")
        _EXERCISES[exercise_id] = Exercise(exercise_id, title, fn)
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


def check(exercise_id: str, answer: Any) -> Result:
    """Check ``answer`` to exercise ``exercise_id``; the result says right or wrong."""
    found = exercises().get(exercise_id)
    if found is None:
        known = ", ".join(exercises())
        raise KeyError(f"no exercise {exercise_id!r}; exercises are {known}")
    try:
        return found.check(answer)
    except Exception as err:  # a malformed answer is a wrong answer, with the reason
        return Result(False, f"that answer could not be checked ({err.__class__.__name__}: {err})")
