"""A warm-up exercise that shows how checks work (used by the docs)."""

from __future__ import annotations

from typing import Any

from roomsim.exercises import Result, exercise
from roomsim.exercises.answers import whole_number


@exercise("00.1", "How much is 2 + 2?", answer="a whole number", rule="add two and two.")
def two_and_two(answer: Any) -> Result:
    """The answer is a number."""
    if whole_number(answer) == 2 + 2:
        return Result(True, "2 + 2 is 4.")
    return Result(False, "count again on your fingers.")
