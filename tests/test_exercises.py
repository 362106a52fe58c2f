"""Every classroom exercise accepts its solution and refuses a plausible wrong answer.

Solutions live in ``notebooks/solutions/nbXX.py`` (``SOLUTIONS``), next to a
plausible wrong answer for each exercise (``WRONG``), with a comment on the
mistake it models.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from roomsim.exercises import check, exercises

SOLUTIONS_DIR = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"


def _load(name: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(SOLUTIONS_DIR.glob("nb*.py")):
        spec = importlib.util.spec_from_file_location(f"solutions_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        found.update(getattr(module, name))
    return found


SOLUTIONS = _load("SOLUTIONS")
WRONG = _load("WRONG")


@pytest.mark.parametrize("exercise_id", list(exercises()))
def test_solution_passes(exercise_id: str) -> None:
    """The instructor's solution is right."""
    assert exercise_id in SOLUTIONS, f"no solution for {exercise_id}"
    result = check(exercise_id, SOLUTIONS[exercise_id])
    assert result.ok, result.message


@pytest.mark.parametrize("exercise_id", list(exercises()))
def test_wrong_answer_fails_with_a_hint(exercise_id: str) -> None:
    """A plausible wrong answer is refused, with a hint."""
    assert exercise_id in WRONG, f"no wrong answer for {exercise_id}"
    result = check(exercise_id, WRONG[exercise_id])
    assert not result.ok
    assert result.message


def test_every_notebook_exercise_has_an_id_of_its_notebook() -> None:
    """Exercise ids are '<notebook>.<n>' and there are at least 12 beyond the warm-up."""
    ids = [i for i in exercises() if not i.startswith("00.")]
    assert all(len(i.split(".")) == 2 for i in ids)
    assert len(ids) >= 12
