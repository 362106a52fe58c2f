"""Build, grade and export a roomsim assignment with otter-grader, locally (no Docker).

Usage (from the repository's root)::

    python course/grade.py build course/assignments/01-rooms/01-rooms.ipynb dist/01-rooms
    python course/grade.py grade dist/01-rooms submissions/*.ipynb --out grades.csv

``build`` runs ``otter assign``: ``dist/01-rooms/student/`` is the release for
students (no solutions, public tests only), ``dist/01-rooms/autograder/`` holds
the solutions notebook and the autograder zip (public and hidden tests).
``grade`` runs each submission through the autograder (``otter run``'s engine,
in this Python, which must have roomsim installed) and writes one CSV row per
submission: the file, the STUDENT_ID the notebook played, the points of each
question, the total, the maximum, and a ``note`` when the id is missing or does
not match the file's name.

The student id is the seed of each student's version: the hidden tests play
the ``STUDENT_ID`` the submission set.  otter's own ``seed:`` is not used: it
holds one integer for the whole class and, when grading, writes it into every
code cell, so every submission would be graded as one student
(docs/instructor-guide.md, "Per-student versions").
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
from pathlib import Path

__all__ = ["autograder_zip", "build", "grade", "student_id_of"]

_ID_LINE = re.compile(r"^\s*STUDENT_ID\s*=\s*['\"]([^'\"]*)['\"]", re.MULTILINE)


def build(source: Path, dist: Path) -> Path:
    """Run ``otter assign`` on the source notebook; return the output folder."""
    dist.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "otter", "assign", str(source), str(dist), "--no-pdfs"],
        check=True,
        capture_output=True,
        text=True,
    )
    return dist


def autograder_zip(dist: Path) -> Path:
    """The newest autograder zip that ``build`` wrote into ``dist``."""
    found = sorted((dist / "autograder").glob("*-autograder_*.zip"))
    if not found:
        raise FileNotFoundError(f"{dist}: no autograder zip; run `build` first")
    return found[-1]


def student_id_of(notebook: Path) -> str:
    """The STUDENT_ID a submission set (empty when it is missing or left as '...')."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        found = _ID_LINE.search("".join(cell.get("source", "")))
        if found:
            value = found.group(1)
            return "" if value in ("", "...") else value
    return ""


def grade(dist: Path, submissions: list[Path], out: Path) -> list[dict[str, object]]:
    """Grade every submission with the autograder of ``dist``; write ``out`` (CSV)."""
    from otter.api import grade_submission

    zip_path = autograder_zip(dist)
    rows: list[dict[str, object]] = []
    questions: list[str] = []
    for path in submissions:
        results = grade_submission(str(path), str(zip_path), quiet=True)
        names = sorted(results.test_files)
        questions = questions or names
        sid = student_id_of(path)
        note = ""
        if not sid:
            note = "no STUDENT_ID: graded as the version of '...'"
        elif sid not in path.stem:
            note = f"STUDENT_ID {sid!r} is not in the file name"
        row: dict[str, object] = {"submission": path.name, "student_id": sid}
        row.update({q: results.get_score(q) for q in names})
        row.update({"total": results.total, "possible": results.possible, "note": note})
        rows.append(row)
    out.parent.mkdir(parents=True, exist_ok=True)
    fields = ["submission", "student_id", *questions, "total", "possible", "note"]
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="otter assign: the student release and the autograder")
    b.add_argument("source", type=Path)
    b.add_argument("dist", type=Path)
    g = sub.add_parser("grade", help="grade submissions and write a CSV of grades")
    g.add_argument("dist", type=Path)
    g.add_argument("submissions", type=Path, nargs="+")
    g.add_argument("--out", type=Path, default=Path("grades.csv"))
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.source, args.dist)
        print(f"student release: {args.dist / 'student'}; autograder: {autograder_zip(args.dist)}")
        return 0
    rows = grade(args.dist, args.submissions, args.out)
    for row in rows:
        print(f"{row['submission']}: {row['total']:g} / {row['possible']:g} {row['note']}")
    print(f"grades written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
