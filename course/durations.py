"""How long each notebook takes: measured run time, reading time, and stated allowances.

Usage (from the repository's root)::

    python course/durations.py            # executes every notebook of notebooks/
    python course/durations.py --no-run   # counts only (no run time)

For each notebook it

- executes it in a fresh kernel with nbclient (the inline backend, as Jupyter
  shows it to a student) and measures the wall-clock time of the whole run;
- counts the words of its markdown cells and the non-blank lines of its code
  cells, and turns them into a reading time at :data:`WORDS_PER_MIN` words a
  minute for prose and :data:`CODE_LINES_PER_MIN` lines a minute for code
  (read, run, look at the output);
- adds :data:`EXERCISE_MIN` minutes per exercise (each distinct
  ``check_answer("NN.N", ...)`` of a code cell) and :data:`TRY_IT_MIN` minutes
  per "Try it" prompt (a markdown cell that says "Try it");

and prints a Markdown table: the counts, the run time and the total, rounded
up to the next 5 minutes.

Examples
--------
>>> minutes(Counts(words=400, code_lines=20, exercises=1, try_its=1), run_s=30)
19.5
>>> rounded_up(19.5)
20
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INLINE = "module://matplotlib_inline.backend_inline"

#: Reading rate for the prose of markdown cells (technical text, read once, carefully).
WORDS_PER_MIN = 200
#: Code lines a minute: read a cell, run it, look at what it printed or drew.
CODE_LINES_PER_MIN = 10
#: Allowance per exercise: read the task, work the answer out, check it, a second try.
EXERCISE_MIN = 10
#: Allowance per "Try it" prompt: make the change, run again, compare.
TRY_IT_MIN = 5

__all__ = [
    "CODE_LINES_PER_MIN",
    "EXERCISE_MIN",
    "TRY_IT_MIN",
    "WORDS_PER_MIN",
    "Counts",
    "count",
    "minutes",
    "rounded_up",
    "run_seconds",
]

_WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*")
_EXERCISE = re.compile(r"check_answer\(\s*['\"](\d\d\.\d+)['\"]")
_TRY_IT = re.compile(r"\btry it\b", re.IGNORECASE)


@dataclass(frozen=True)
class Counts:
    """What a notebook asks a student to read and do."""

    words: int
    code_lines: int
    exercises: int
    try_its: int


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def count(nb: Any) -> Counts:
    """Count a notebook's prose words, code lines, exercises and "Try it" prompts.

    ``nb`` is a notebook as :mod:`nbformat` reads it (or its JSON as a dict).
    Words are runs of letters and digits in markdown cells (markup such as
    ``#`` or ``**`` is not a word); code lines are the non-blank lines of code
    cells; an exercise is a distinct id passed to ``check_answer``; a "Try it"
    is a markdown cell that says so.

    Examples
    --------
    >>> nb = {"cells": [
    ...     {"cell_type": "markdown", "source": "# Two rooms\\n\\n**Try it:** join both."},
    ...     {"cell_type": "code", "source": "x = 1\\n\\ncheck_answer('02.1', x)\\n"},
    ... ]}
    >>> count(nb)
    Counts(words=6, code_lines=2, exercises=1, try_its=1)
    """
    words = code_lines = try_its = 0
    exercises: set[str] = set()
    for cell in nb["cells"]:
        text = _source(cell)
        if cell["cell_type"] == "markdown":
            words += len(_WORD.findall(text))
            try_its += bool(_TRY_IT.search(text))
        elif cell["cell_type"] == "code":
            code_lines += sum(1 for line in text.splitlines() if line.strip())
            exercises.update(_EXERCISE.findall(text))
    return Counts(words, code_lines, len(exercises), try_its)


def minutes(counts: Counts, run_s: float = 0.0) -> float:
    """The time a student needs, in minutes: reading, running and the allowances.

    Examples
    --------
    >>> minutes(Counts(words=200, code_lines=10, exercises=0, try_its=0))
    2.0
    """
    return (
        counts.words / WORDS_PER_MIN
        + counts.code_lines / CODE_LINES_PER_MIN
        + counts.exercises * EXERCISE_MIN
        + counts.try_its * TRY_IT_MIN
        + run_s / 60
    )


def rounded_up(value: float, step: int = 5) -> int:
    """``value`` rounded up to a multiple of ``step`` (a duration to announce)."""
    return int(math.ceil(value / step - 1e-9) * step)


def run_seconds(path: Path, timeout: int = 600) -> float:
    """Execute the notebook at ``path`` in a fresh kernel; the wall-clock seconds it took."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    previous = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = INLINE
    try:
        client = nbclient.NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        client.execute()
        return time.perf_counter() - start
    finally:
        if previous is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = previous


def table(paths: list[Path], run: bool = True) -> str:
    """The Markdown table of durations for the notebooks at ``paths``."""
    import nbformat

    rows = [
        "| notebook | words | code lines | exercises | Try it | reading | runs in | total |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    total = 0
    for path in paths:
        counts = count(nbformat.read(path, as_version=4))
        run_s = run_seconds(path) if run else 0.0
        reading = counts.words / WORDS_PER_MIN + counts.code_lines / CODE_LINES_PER_MIN
        announced = rounded_up(minutes(counts, run_s))
        total += announced
        ran = f"{run_s:.0f} s" if run else "-"
        rows.append(
            f"| {path.stem} | {counts.words} | {counts.code_lines} | {counts.exercises} |"
            f" {counts.try_its} | {reading:.0f} min | {ran} | {announced} min |"
        )
    rows.append(f"| all | | | | | | | {total} min |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", type=Path, nargs="*", help="default: notebooks/*.ipynb")
    parser.add_argument("--no-run", action="store_true", help="count only, do not execute")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print(f"durations: no notebook {missing[0]}", file=sys.stderr)
        return 2
    print(
        f"reading: {WORDS_PER_MIN} words/min of prose, {CODE_LINES_PER_MIN} code lines/min;"
        f" {EXERCISE_MIN} min per exercise, {TRY_IT_MIN} min per 'Try it'; total rounded up"
        " to 5 min"
    )
    print(table(paths, run=not args.no_run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
