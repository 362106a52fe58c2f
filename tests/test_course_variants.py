"""Per-student variants of the graded assignments' exercises.

Every exercise an assignment grades is played in the student's own version:
two student ids give two scenarios and two right answers; the instructor's
solution (run here cell by cell, public and hidden tests included, without
otter) is right in each version; a student id always gives the same version,
whatever ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from roomsim.exercises import check_answer, exercises, forget_tries, scenario, variant

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ROOT / "course" / "assignments"
nbformat = pytest.importorskip("nbformat")

_CHECK = re.compile(r'check_answer\("(\d\d\.\d+)", (\w+), variant=STUDENT_ID\)')
_ID_LINE = re.compile(r'^STUDENT_ID = "[^"]*".*$', re.MULTILINE)
#: Two students; their versions of every assignment exercise differ.
FIRST, SECOND = "s100", "s101"


def _source(name: str) -> Any:
    return nbformat.read(ASSIGNMENTS / name / f"{name}.ipynb", as_version=4)


def _graded(name: str) -> dict[str, str]:
    """The exercises an assignment's public tests check with the student's variant:
    exercise id -> the answer's name in the notebook."""
    code = "\n".join(c.source for c in _source(name).cells if c.cell_type == "code")
    return dict(_CHECK.findall(code))


ASSIGNMENT_NAMES = sorted(p.name for p in ASSIGNMENTS.iterdir() if p.is_dir())
GRADED = {name: _graded(name) for name in ASSIGNMENT_NAMES}
ALL = sorted((name, eid) for name, found in GRADED.items() for eid in found)


def _play(name: str, student_id: str) -> dict[str, Any]:
    """Run every code cell of the instructor's source notebook as ``student_id``: the
    solutions, then the public and hidden tests (plain asserts); the namespace."""
    namespace: dict[str, Any] = {"__name__": "__assignment__"}
    for cell in _source(name).cells:
        if cell.cell_type == "code":
            source = _ID_LINE.sub(f"STUDENT_ID = {student_id!r}", cell.source)
            exec(compile(source, f"<{name}>", "exec"), namespace)
    return namespace


_PLAYED: dict[tuple[str, str], dict[str, Any]] = {}


def _played(name: str, student_id: str) -> dict[str, Any]:
    if (name, student_id) not in _PLAYED:
        _PLAYED[(name, student_id)] = _play(name, student_id)
    return _PLAYED[(name, student_id)]


def _outcome(exercise_id: str, answer: Any, student_id: str) -> Any:
    """What a right answer says, comparable between students: the value itself, or what
    a function does in that student's version (03.1: what each client got; 08.1: the
    copies for a few clusters)."""
    if exercise_id == "03.1":
        from roomsim.exercises.nb03 import _run_chat

        got, _ = _run_chat(answer, variant(student_id))
        return got
    if exercise_id == "08.1":
        return [tuple(answer(n, k)) for n, k in ((4, 2), (7, 3), (12, 5))]
    return answer


def test_every_assignment_grades_every_exercise_in_the_students_version() -> None:
    """Each assignment's four questions check their exercise with variant=STUDENT_ID,
    and each of those exercises takes a variant and prints the student's task."""
    assert ASSIGNMENT_NAMES == ["01-rooms", "02-clusters"]
    assert sorted(GRADED["01-rooms"]) == ["02.1", "03.1", "04.2", "06.2"]
    assert sorted(GRADED["02-clusters"]) == ["07.1", "08.1", "09.2", "10.1"]
    for _name, eid in ALL:
        assert exercises()[eid].takes_variant and exercises()[eid].scenario is not None, eid


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_the_solution_is_right_in_two_versions(name: str) -> None:
    """The instructor's solution, run for two students, passes every public and hidden
    test of the notebook (they are asserts: a failure raises) and every check."""
    for sid in (FIRST, SECOND):
        namespace = _played(name, sid)
        for eid, answer in GRADED[name].items():
            assert check_answer(eid, namespace[answer], variant=sid).ok, (sid, eid)


@pytest.mark.parametrize(("name", "exercise_id"), ALL)
def test_two_students_get_two_scenarios_and_two_right_answers(name: str, exercise_id: str) -> None:
    """Two students' tasks differ, and so do their right answers (worked out by the
    solution's own simulation of each task); one student's right answer is wrong for
    the other, unless it is a handler (03.1), which is right for every room."""
    assert scenario(exercise_id, FIRST) != scenario(exercise_id, SECOND)
    key = GRADED[name][exercise_id]
    first, second = _played(name, FIRST)[key], _played(name, SECOND)[key]
    assert _outcome(exercise_id, first, FIRST) != _outcome(exercise_id, second, SECOND)
    if exercise_id != "03.1":
        assert not check_answer(exercise_id, first, variant=SECOND).ok
        assert not check_answer(exercise_id, second, variant=FIRST).ok


_PRINT_VERSIONS = """
import json, sys
from roomsim.exercises import scenario, variant
ids = json.loads(sys.argv[1])
v = variant("s100")
print(json.dumps({
    "variant": [v.student_id, v.names, v.rooms, v.shift_ms, v.leaver],
    "tasks": {eid: scenario(eid, sid) for eid in ids for sid in ("s100", "s101")},
}, sort_keys=True))
"""


@pytest.mark.slow
def test_a_student_id_gives_the_same_version_under_any_hash_seed() -> None:
    """A fixed id gives the same variant and the same task of every assignment exercise
    in this process and in two others with different PYTHONHASHSEEDs."""
    ids = sorted({eid for _name, eid in ALL})
    runs = []
    for seed in ("0", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        out = subprocess.run(
            [sys.executable, "-c", _PRINT_VERSIONS, json.dumps(ids)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        runs.append(json.loads(out))
    here = {eid: scenario(eid, sid) for eid in ids for sid in ("s100", "s101")}
    assert runs[0] == runs[1]
    assert runs[0]["tasks"] == here
    v = variant("s100")
    assert runs[0]["variant"] == [v.student_id, v.names, v.rooms, v.shift_ms, v.leaver]
    assert variant("s100") == v


def test_the_assignments_take_the_students_id_not_otters_seed() -> None:
    """No assignment sets otter's `seed:`, and every hidden test of a question plays the
    submission's own STUDENT_ID (or more versions besides)."""
    import yaml

    for name in ASSIGNMENT_NAMES:
        cells = _source(name).cells
        config = yaml.safe_load(cells[0].source.replace("# ASSIGNMENT CONFIG", ""))
        assert "seed" not in config, name
        hidden = [c.source for c in cells if c.cell_type == "code" and "hidden: true" in c.source]
        assert len(hidden) == 4, name
        for source in hidden:
            body = source.split("# END TEST CONFIG", 1)[1]
            assert re.search(r"variant[=(]_?\w*", body) and "STUDENT_ID" in body, source


@pytest.mark.slow
def test_otters_seed_would_grade_every_submission_as_one_student() -> None:
    """Why otter's seed cannot carry a student id: with seed.variable = STUDENT_ID,
    otter's grading engine writes `STUDENT_ID = <the one autograder_value>` at the top of
    every code cell, so every later cell, the tests included, sees that value instead
    of the id the student set."""
    preprocessor = pytest.importorskip("otter.execute.preprocessor")
    GradingPreprocessor = preprocessor.GradingPreprocessor

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('STUDENT_ID = "s100"'),
        nbformat.v4.new_code_cell("answer = variant(STUDENT_ID)"),
    ]
    GradingPreprocessor(seed=7, seed_variable="STUDENT_ID").add_seeds(nb)
    namespace: dict[str, Any] = {"variant": variant}
    for cell in nb.cells:
        exec(cell.source, namespace)
    assert namespace["STUDENT_ID"] == 7
    assert namespace["answer"] == variant(7) != variant("s100")


def test_04_2_hints_follow_the_students_own_timeline() -> None:
    """In a student's 04.2, a text sent to the old id after the return, added to the
    right answer, gets the 'a new id' rule; one sent while away, the 'no queue' rule;
    the notebook's texts are refused as not in this version's task."""
    from roomsim.exercises.nb04 import _gone

    for sid in (FIRST, SECOND, "s102", "s103"):
        gone = _gone(variant(sid))
        before = [x for t, x, _new in gone.sends if t < gone.leave_at]
        after_new = [x for t, x, new in gone.sends if t > gone.back_at and new]
        right = before + after_new
        assert check_answer("04.2", right, variant=sid).ok, sid
        for t, text, new in gone.sends:
            if text in right:
                continue
            wrong = sorted([*right, text], key=[x for _t, x, _n in gone.sends].index)
            forget_tries()  # each wrong answer as a first try: the hint, not the rule
            hint = check_answer("04.2", wrong, variant=sid).message
            if t < gone.back_at:
                assert "keeps no queue" in hint, (sid, text, hint)
            else:
                assert "new id" in hint and not new, (sid, text, hint)
        assert "no text 'one'" in check_answer("04.2", ["one", "four"], variant=sid).message
