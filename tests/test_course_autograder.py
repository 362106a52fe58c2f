"""The graded assignment's whole pipeline, with otter-grader, locally (no Docker).

Builds the student release from the instructor's source notebook and checks
it gives nothing away; grades the instructor's solutions (full marks) and a
submission with typical wrong answers (the partial marks those mistakes
earn); writes the grades table.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ROOT / "course" / "assignments"
SOURCE = ASSIGNMENTS / "01-rooms" / "01-rooms.ipynb"
SOURCE_2 = ASSIGNMENTS / "02-clusters" / "02-clusters.ipynb"

if importlib.util.find_spec("otter") is None:  # (found, not imported: it takes a second)
    pytest.skip("otter-grader is not installed", allow_module_level=True)
nbformat = pytest.importorskip("nbformat")
pytestmark = pytest.mark.slow  # otter assign and otter run on two assignments (about 20 s)

#: Pieces of the instructor's solutions: none may reach the student release.
COMMON_PIECES = ("BEGIN SOLUTION", "END SOLUTION", "# SOLUTION", "_grade(")
SOLUTION_PIECES = {
    "01-rooms": (
        'socket.to(room).emit("chat", text)',
        "_members(v)",
        "_gone(variant(STUDENT_ID))",
        "_news(v)",
        "sim.trace.deliveries()",
        "hidden-a",  # a hidden test's variant
    ),
    "02-clusters": (
        "recipients(sent[0])",
        "nodes - nodes_with_room",
        "_setup_08_1",
        "_outage_setup",
        'reason="broker down"',
        "leave: {{client: {one}",
        "_run_classic",  # a hidden test's helper
    ),
}


def _grade_module():
    spec = importlib.util.spec_from_file_location("course_grade", ROOT / "course" / "grade.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _set_cell(nb, marker: str, source: str) -> None:
    """Replace the source of the one code cell containing ``marker``."""
    cells = [c for c in nb.cells if c.cell_type == "code" and marker in c.source]
    assert len(cells) == 1, marker
    cells[0].source = source


def _returns_a_value(tree: ast.AST) -> list[str]:
    """Functions that return something other than None (an answer-returning helper)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                returns = isinstance(inner, ast.Return) and inner.value is not None
                if returns and not (
                    isinstance(inner.value, ast.Constant) and inner.value.value is None
                ):
                    found.append(node.name)
    return found


_BUILT: dict[str, Path] = {}


def _built(name: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if name not in _BUILT:
        source = ASSIGNMENTS / name / f"{name}.ipynb"
        _BUILT[name] = _grade_module().build(source, tmp_path_factory.mktemp(name))
    return _BUILT[name]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _built("01-rooms", tmp_path_factory)


def test_every_assignment_has_its_checks_here() -> None:
    """Each assignment folder holds one source notebook, listed in SOLUTION_PIECES."""
    names = sorted(p.name for p in ASSIGNMENTS.iterdir() if p.is_dir())
    assert names == sorted(SOLUTION_PIECES)
    for name in names:
        assert [p.name for p in (ASSIGNMENTS / name).glob("*.ipynb")] == [f"{name}.ipynb"]


@pytest.mark.parametrize("name", sorted(SOLUTION_PIECES))
def test_the_source_notebook_is_committed_without_outputs(name: str) -> None:
    """The instructor's source carries no outputs."""
    nb = nbformat.read(ASSIGNMENTS / name / f"{name}.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", sorted(SOLUTION_PIECES))
def test_the_student_release_gives_nothing_away(
    name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The student notebook has no solution, no hidden test and no function that returns
    an answer; its public tests are there, one check per question."""
    path = _built(name, tmp_path_factory) / "student" / f"{name}.ipynb"
    text = path.read_text(encoding="utf-8")
    for piece in SOLUTION_PIECES[name] + COMMON_PIECES:
        assert piece not in text, piece
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert _returns_a_value(ast.parse(code)) == []
    assert "course.solutions" not in code and "course/solutions" not in code
    tests = nb.metadata["otter"]["tests"]
    assert sorted(tests) == ["q1", "q2", "q3", "q4"]
    cases = [case for t in tests.values() for s in t["suites"] for case in s["cases"]]
    assert cases and not any(case["hidden"] for case in cases)
    assert [c.source for c in nb.cells].count('grader.check("q1")') == 1


@pytest.mark.parametrize("name", sorted(SOLUTION_PIECES))
def test_the_autograder_holds_the_hidden_tests(
    name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The autograder zip (not the release) has a hidden test for every question."""
    import zipfile

    zip_path = _grade_module().autograder_zip(_built(name, tmp_path_factory))
    with zipfile.ZipFile(zip_path) as zf:
        tests = {n: zf.read(n).decode() for n in zf.namelist() if n.startswith("tests/")}
    assert sorted(tests) == [f"tests/q{i}.py" for i in (1, 2, 3, 4)]
    assert all("'hidden': True" in body for body in tests.values())
    hidden = "".join(tests.values())
    assert any(piece in hidden for piece in ("hidden-a", "_run_classic"))


def test_assignment_2_full_marks_and_typical_mistakes(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """Assignment 2: the solutions earn 10 of 10 in two variants (s100, s101); a
    submission that thinks every node picks at the emit (q1), gets the copies of its
    version right (q2), counts the emitting node's own members as lost (q3) and leaves
    the room only after m2 was sent (q4), each in s300's version, earns 0 + 3 + 0 + 0."""
    from roomsim.exercises import scenario, variant

    grade = _grade_module()
    dist2 = _built("02-clusters", tmp_path_factory)
    solutions = nbformat.read(dist2 / "autograder" / "02-clusters.ipynb", as_version=4)
    imports = "from roomsim.exercises import check_answer, scenario, variant\n\n"
    _set_cell(solutions, "STUDENT_ID =", imports + 'STUDENT_ID = "s100"')
    typical = nbformat.read(dist2 / "student" / "02-clusters.ipynb", as_version=4)
    _set_cell(typical, "STUDENT_ID =", imports + 'STUDENT_ID = "s300"')
    v = variant("s300")
    # every node picking at the emit: the room's members at t=10, in s300's names
    _set_cell(
        typical,
        "answer_q1 = ...",
        'v = variant(STUDENT_ID)\nanswer_q1 = {v.name(n) for n in ("alice", "bob", "dave")}',
    )
    # s300's version of 08.1 (printed in the notebook): 2 messages, and n1 has a member
    assert scenario("08.1", "s300").startswith(
        "Classic Redis adapter, any number of nodes: n1 sends 2"
    )
    assert "n1 has a member" in scenario("08.1", "s300")
    _set_cell(
        typical,
        "def copies",
        "def copies(nodes, nodes_with_room):\n"
        "    return 2 * nodes, 2 * (nodes - nodes_with_room + 1)\n",
    )
    # s300's outage, as printed in the notebook: counting every member of each room as
    # lost, the emitting node's own members too (they were written to at the emit)
    from roomsim.exercises.nb09 import _outage_setup

    clients, ops, dev = _outage_setup(v)
    assert f"n1 sends to {ops!r}, at t=9.8 n2 sends to {dev!r}" in scenario("09.2", v)
    own_too = sum((ops in rooms) + (dev in rooms) for _node, rooms in clients.values())
    others = sum(
        (ops in rooms and node != "n1") + (dev in rooms and node != "n2")
        for node, rooms in clients.values()
    )
    assert own_too != others
    _set_cell(typical, "answer_q3 = ...", f"answer_q3 = {own_too}")
    one, both, room = v.name("bob"), v.name("carol"), v.room("quiet")
    assert f"{one} receives m1 and not m2, and {both} receives both" in scenario("10.1", v)
    _set_cell(
        typical,
        "your scenario here",
        'answer_q4 = """\n'
        "cluster: {nodes: [n1, n2], adapter: redis}\n"
        "latency: {client_ms: 5, adapter_ms: 2}\n"
        "clients:\n"
        f"  - {{name: {one}, node: n1, rooms: [{room}]}}\n"
        f"  - {{name: {both}, node: n2, rooms: [{room}]}}\n"
        "timeline:\n"
        f"  - {{at: 10, emit: {{id: m1, from: n1, to: [{room}], event: headline}}}}\n"
        f"  - {{at: 30, emit: {{id: m2, from: n1, to: [{room}], event: headline}}}}\n"
        f"  - {{at: 31, leave: {{client: {one}, rooms: [{room}]}}}}\n"
        '"""\n',
    )
    nbformat.write(solutions, tmp_path / "s100.ipynb")
    _set_cell(solutions, "STUDENT_ID =", imports + 'STUDENT_ID = "s101"')
    nbformat.write(solutions, tmp_path / "s101.ipynb")
    nbformat.write(typical, tmp_path / "s300.ipynb")
    rows = grade.grade(dist2, sorted(tmp_path.glob("*.ipynb")), tmp_path / "grades.csv")
    scores = {r["student_id"]: (r["q1"], r["q2"], r["q3"], r["q4"], r["total"]) for r in rows}
    assert scores["s100"] == scores["s101"] == (2, 3, 2, 3, 10)
    assert scores["s300"] == (0, 3, 0, 0, 3)


def test_grading_gives_full_marks_to_the_solutions_and_partial_marks_to_typical_mistakes(
    dist: Path, tmp_path: Path
) -> None:
    """The instructor's solutions, played for students s100 and s101 (two variants),
    earn 10 of 10 each.  A submission for s200 with a right q1 and q4 (worked out for
    s200's variant by a simulation), the echoing relay in q2 and the 'queued for a gone
    id' mistake in q3 earns 2 + 0 + 0 + 3 = 5; its public tests fail with hints.
    The grades table has a row per submission."""
    import roomsim
    from roomsim.exercises.nb02 import _members
    from roomsim.exercises.nb04 import _gone
    from roomsim.exercises.nb06 import _run_bob_comes_back
    from roomsim.exercises.variants import variant

    grade = _grade_module()
    submissions = tmp_path / "submissions"
    submissions.mkdir()

    for sid in ("s100", "s101"):
        solutions = nbformat.read(dist / "autograder" / "01-rooms.ipynb", as_version=4)
        _set_cell(
            solutions,
            "STUDENT_ID =",
            "from roomsim.exercises import check_answer, scenario, variant\n\n"
            f'STUDENT_ID = "{sid}"',
        )
        nbformat.write(solutions, submissions / f"{sid}.ipynb")

    typical = nbformat.read(dist / "student" / "01-rooms.ipynb", as_version=4)
    _set_cell(
        typical,
        "STUDENT_ID =",
        'from roomsim.exercises import check_answer, scenario, variant\n\nSTUDENT_ID = "s200"',
    )
    # q1 right for s200's version: its recipients, found by a simulation of that task
    v2 = variant("s200")
    sim = roomsim.Cluster(nodes=1, client_ms=5)
    for name, rooms in _members(v2).items():
        sim.connect(name, node="n1", rooms=rooms)
    msg = sim.io("n1").to([v2.room("a"), v2.room("b")]).except_(v2.room("c")).emit("news")
    sim.run()
    _set_cell(typical, "answer_q1 = ...", f"answer_q1 = {set(sim.trace.recipients(msg))!r}")
    _set_cell(
        typical,
        "def on_connection",
        "def on_connection(socket):\n"
        '    @socket.on("chat")\n'
        "    def chat(room, text):\n"
        '        socket.nsp.to(room).emit("chat", text)  # the sender gets it back\n',
    )
    # q3: "the server queues messages for a gone id": the texts sent while s200 was
    # away are counted as received too (s200's version always sends one or two then)
    gone = _gone(variant("s200"))
    queued = [text for t, text, new in gone.sends if t < gone.back_at or new]
    assert any(gone.leave_at < t < gone.back_at for t, _text, _new in gone.sends)
    _set_cell(typical, "answer_q3 = ...", f"answer_q3 = {queued!r}")
    v = variant("s200")
    trace = _run_bob_comes_back(v)
    who = v.name(v.leaver)
    right_q4 = {
        "received": sorted(m for m, c in trace.deliveries() if c == who),
        "dropped": sorted(r["msg"] for r in trace.records("drop", client=who)),
    }
    _set_cell(
        typical,
        "answer_q4 = ...",
        f"answer_q4 = {{k: set(v) for k, v in {right_q4!r}.items()}}",
    )
    nbformat.write(typical, submissions / "s200.ipynb")

    out = tmp_path / "grades.csv"
    rows = grade.grade(dist, sorted(submissions.glob("*.ipynb")), out)
    scores = {r["student_id"]: (r["q1"], r["q2"], r["q3"], r["q4"], r["total"]) for r in rows}
    assert scores["s100"] == scores["s101"] == (2, 3, 2, 3, 10)
    assert scores["s200"] == (2, 0, 0, 3, 5)
    with out.open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert [row["student_id"] for row in table] == ["s100", "s101", "s200"]
    assert [float(row["total"]) for row in table] == [10.0, 10.0, 5.0]
    assert all(float(row["possible"]) == 10.0 and row["note"] == "" for row in table)


def test_a_submission_without_an_id_is_flagged(tmp_path: Path) -> None:
    """A notebook whose STUDENT_ID is still '...' is read as having no id."""
    grade = _grade_module()
    nb = nbformat.read(SOURCE, as_version=4)
    path = tmp_path / "s300.ipynb"
    nbformat.write(nb, path)
    assert grade.student_id_of(path) == ""
    _set_cell(nb, "STUDENT_ID =", 'STUDENT_ID = "s300"')
    nbformat.write(nb, path)
    assert grade.student_id_of(path) == "s300"
