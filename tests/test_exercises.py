"""Every classroom exercise accepts its solution, refuses typical wrong answers with a
hint that does not give the answer away, cannot be hung by a student's handler, and
reads answers one way whatever the hash seed.

Solutions live in the instructor-only ``course/solutions/nbXX.py`` (``SOLUTIONS``),
beside at least three wrong answers for each exercise (``WRONG``), one of them of
the wrong type, with a comment on the mistake each models.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import roomsim
from roomsim.exercises import (
    NARROWING_TRIES,
    AnswerError,
    bounds,
    check_answer,
    exercises,
    forget_tries,
    scenario,
    variant,
)

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = ROOT / "course" / "solutions"


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
IDS = list(exercises())


@pytest.fixture(autouse=True)
def _fresh_tries() -> None:
    forget_tries()


def _words(answer: Any) -> set[str]:
    """The names/texts an answer is made of (to see whether a hint leaks them)."""
    if isinstance(answer, str):
        return {answer}
    if isinstance(answer, dict):
        return set().union(*(_words(v) for v in answer.values())) if answer else set()
    if isinstance(answer, (set, frozenset, list, tuple)):
        return set().union(*(_words(v) for v in answer)) if answer else set()
    return set()


@pytest.mark.parametrize("exercise_id", IDS)
def test_solution_passes(exercise_id: str) -> None:
    """The instructor's solution is right."""
    assert exercise_id in SOLUTIONS, f"no solution for {exercise_id}"
    result = check_answer(exercise_id, SOLUTIONS[exercise_id])
    assert result.ok, result.message


@pytest.mark.parametrize("exercise_id", IDS)
def test_typical_wrong_answers_fail_with_a_hint(exercise_id: str) -> None:
    """At least three typical wrong answers, one of the wrong type, are each refused
    with a hint; a wrong type is refused by the answer's parser (AnswerError), not by
    an accident of the check."""
    wrong = WRONG.get(exercise_id, [])
    assert len(wrong) >= 3, f"{exercise_id}: fewer than three wrong answers"
    assert any(kind == "type" for kind, _ in wrong), f"{exercise_id}: no wrong-type answer"
    found = exercises()[exercise_id]
    for kind, answer in wrong:
        forget_tries()
        result = check_answer(exercise_id, answer)
        assert not result.ok, f"{exercise_id}: {answer!r} passed"
        assert result.message
        if kind == "type":
            with pytest.raises(AnswerError):
                if found.takes_variant:
                    found.check(answer, variant())
                else:
                    found.check(answer)


@pytest.mark.parametrize("exercise_id", IDS)
def test_hints_never_name_what_is_missing(exercise_id: str) -> None:
    """A wrong answer that leaves out part of the right one gets a hint naming none of
    the left-out names or texts (it explains the rule instead)."""
    right = SOLUTIONS[exercise_id]
    for _, answer in (w for w in WRONG[exercise_id] if w[0] == "mistake"):
        missing = _words(right) - _words(answer)
        if not missing:
            continue
        forget_tries()
        message = check_answer(exercise_id, answer).message
        for word in missing:
            assert f"'{word}'" not in message and f" {word}," not in message, (exercise_id, word)
            assert not message.rstrip(".").endswith(f" {word}"), (exercise_id, word)


def test_06_1_first_hint_does_not_name_the_answer() -> None:
    """The first hint to an empty answer of 06.1 names no room of the answer."""
    for answer in (set(), {"game:1"}, {"lobby", "game:1"}, {"kitchen"}):
        forget_tries()
        message = check_answer("06.1", answer).message
        assert "game:2" not in message, message


def test_repeated_wrong_tries_stop_narrowing() -> None:
    """After NARROWING_TRIES wrong tries, 09.2's too many/too few gives way to the rule:
    bisecting on hints does not find the answer."""
    messages = [check_answer("09.2", guess).message for guess in (100, 1, 50, 2, 25, 3)]
    assert "too many" in messages[0] and "too few" in messages[1]
    for later in messages[NARROWING_TRIES:]:
        assert "too many" not in later and "too few" not in later
        assert "hints stop here" in later
    assert check_answer("09.2", SOLUTIONS["09.2"]).ok


def test_the_03_1_relay_that_ignores_the_room_fails() -> None:
    """A relay to every room of the sender (ignoring the named room) is wrong: carol,
    in lobby and kitchen, chats in kitchen, and lobby must not get it."""
    ignores_the_room = dict((a.__name__, a) for _, a in WRONG["03.1"] if callable(a))[
        "on_connection_ignores_the_room"
    ]
    result = check_answer("03.1", ignores_the_room)
    assert not result.ok
    assert "kitchen" in result.message and "not in" in result.message


@pytest.mark.parametrize("exercise_id", ["03.1", "04.1"])
def test_a_handler_with_a_periodic_loop_gets_a_hint_not_a_hang(exercise_id: str) -> None:
    """A handler that starts a loop that never ends is stopped at the simulated-time
    bound, with a hint saying it never finished, within seconds."""
    looping = next(a for k, a in WRONG[exercise_id] if "loop" in (a.__doc__ or ""))
    start = time.monotonic()
    result = check_answer(exercise_id, looping)
    assert time.monotonic() - start < 10
    assert not result.ok
    assert "never finished" in result.message


def test_a_busy_loop_is_stopped_by_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A handler stuck in `while True: pass` (no simulated time passes) is stopped after
    the wall-clock limit, with the same hint."""
    monkeypatch.setattr(bounds, "WALL_LIMIT_S", 0.5)

    def on_connection(socket: Any) -> None:
        @socket.on("chat")
        def chat(room: str, text: str) -> None:
            while True:
                pass

    start = time.monotonic()
    result = check_answer("03.1", on_connection)
    assert time.monotonic() - start < 5
    assert not result.ok and "still running" in result.message


@pytest.mark.parametrize(
    ("exercise_id", "answer", "ok"),
    [
        ("02.2", 4.0, True),  # 4.0 is 4
        ("02.2", 4.9, False),  # not truncated to 4
        ("09.2", 4.0, True),
        ("09.2", 4.2, False),
        ("07.2", {"handed_out": 5.0, "thrown_away": 4.0}, True),
        ("07.2", {"handed_out": 5.9, "thrown_away": 4}, False),
        ("08.2", {"a": (2.0, 0), "b": [2, 1.0], "c": (6, 2)}, True),
        ("10.2", {"n1": 104.0, "n2": 190, "n3": 201}, True),
        ("10.2", {"n1": 104.7, "n2": 190, "n3": 201}, False),
        ("00.1", True, False),  # a bool is not a number
    ],
)
def test_numbers_are_read_one_way_everywhere(exercise_id: str, answer: Any, ok: bool) -> None:
    """Wherever a whole number is expected, 4.0 is 4 and 4.9 is refused (never truncated)."""
    result = check_answer(exercise_id, answer)
    assert result.ok is ok, result.message
    if not ok and isinstance(answer, float):
        assert "whole number" in result.message


_VERDICTS = """
import json
from roomsim.exercises import check_answer, forget_tries
from tests.test_exercises import SOLUTIONS, WRONG
out = []
for eid, answer in sorted(SOLUTIONS.items()):
    for a in [answer] + [w for _, w in WRONG[eid]]:
        forget_tries()
        r = check_answer(eid, a)
        out.append([eid, r.ok, r.message])
print(json.dumps(out))
"""


@pytest.mark.slow
def test_verdicts_do_not_depend_on_the_hash_seed() -> None:
    """Every verdict and hint, for every solution and wrong answer, is the same under two
    PYTHONHASHSEED values (sets are iterated in a different order in each)."""
    runs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", _VERDICTS], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stdout))
    assert runs[0] == runs[1]


def test_a_set_answer_to_an_ordered_question_is_refused_under_any_seed() -> None:
    """04.2 asks for an order: a set is refused with a message saying why, not judged
    on whatever order the hash seed gives it."""
    result = check_answer("04.2", {"one", "four"})
    assert not result.ok and "a set has none" in result.message


def test_the_two_checkers_say_which_is_which() -> None:
    """check_answer given a trace, and roomsim.check given an exercise id, each say what
    was meant."""
    sim = roomsim.Cluster(nodes=1)
    sim.connect("a", node="n1")
    sim.run()
    with pytest.raises(TypeError, match=r"roomsim\.check\(trace\)"):
        check_answer(sim.trace, {"a"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="check_answer"):
        roomsim.check("02.1")  # type: ignore[arg-type]


@pytest.mark.parametrize("exercise_id", [i for i in IDS if exercises()[i].takes_variant])
def test_variants_change_the_answer_and_are_checked_by_simulation(exercise_id: str) -> None:
    """Two students get different scenarios; the notebook's answer is refused for a
    student whose variant renames the clients; the variant is the same in every call."""
    first, second = variant("student-001"), variant("student-002")
    assert scenario(exercise_id, first) != scenario(exercise_id, second)
    assert variant("student-001") == first
    assert not check_answer(exercise_id, SOLUTIONS[exercise_id], variant=first).ok or (
        exercise_id == "03.1"  # a handler is right whatever the names
    )


def test_a_variant_answer_is_right_for_its_student_only() -> None:
    """02.1 and 06.2 for a student: the answer computed for that variant passes, and the
    same answer fails for another student."""
    from roomsim.exercises.nb02 import _members  # the student's task, as data

    a, b = variant("s-a"), variant("s-b")
    sim = roomsim.Cluster(nodes=1, client_ms=5)
    for name, rooms in _members(a).items():
        sim.connect(name, node="n1", rooms=rooms)
    msg = sim.io("n1").to([a.room("a"), a.room("b")]).except_(a.room("c")).emit("news")
    sim.run()
    right_a = set(sim.trace.recipients(msg))
    assert check_answer("02.1", right_a, variant=a).ok
    assert not check_answer("02.1", right_a, variant=b).ok


def test_every_notebook_exercise_has_an_id_of_its_notebook() -> None:
    """Exercise ids are '<notebook>.<n>' and there are at least 12 beyond the warm-up."""
    ids = [i for i in IDS if not i.startswith("00.")]
    assert all(len(i.split(".")) == 2 for i in ids)
    assert len(ids) >= 12


def test_no_solutions_ship_beside_the_student_notebooks() -> None:
    """The student notebooks' folder holds no solutions."""
    assert not (ROOT / "notebooks" / "solutions").exists()


def test_the_exercise_modules_expose_no_answer() -> None:
    """The public functions of the exercise modules are the checks themselves and the
    notebooks' own stand-ins (fetch_user_id, ...): what computes an answer is private."""
    import importlib
    import inspect

    checks = {e.check for e in exercises().values()}
    helpers = {"user_of", "fetch_user_id", "fetch_projects"}
    for name in {i.split(".")[0] for i in IDS}:
        module = importlib.import_module(f"roomsim.exercises.nb{name}")
        public = [
            fn
            for attr, fn in vars(module).items()
            if inspect.isfunction(fn)
            and fn.__module__ == module.__name__
            and not attr.startswith("_")
        ]
        assert [
            fn.__name__ for fn in public if fn not in checks and fn.__name__ not in helpers
        ] == []


def test_every_exercise_of_assignment_2_takes_a_variant() -> None:
    """Assignment 2 plays 07.1, 08.1, 09.2 and 10.1: each takes a student's variant."""
    assert all(exercises()[i].takes_variant for i in ("07.1", "08.1", "09.2", "10.1"))


def _sim_copies(nodes: int, with_room: int, room: str, messages: int, n1_member: bool):
    """Copies handed out and thrown away, counted in a simulation written here."""
    sim = roomsim.Cluster(nodes=nodes, adapter="redis", client_ms=5, adapter_ms=2)
    members = range(1, with_room + 1) if n1_member else range(2, with_room + 2)
    for i, node in enumerate(sim.nodes, start=1):
        sim.connect(f"u{i}", node=node, rooms=[room] if i in members else [])
    sent = [sim.io("n1").to(room).emit("move") for _ in range(messages)]
    sim.run(until=100)
    relays = [r for r in sim.trace.records("relay") if r["msg"] in sent]
    return len(relays), sum(1 for r in relays if r.get("ignored") or not r.get("targets"))


def test_08_1_variants_change_the_right_function() -> None:
    """08.1 for a student: n1 sends 2 to 9 messages, with or without a member of the
    room. The rule (one copy per node and message; every node but the room's, and the
    publisher's echo, thrown away) read off that student's task passes, checked against
    a simulation; the notebook's function fails; two students' functions differ."""
    rights = {}
    for sid in [f"s-{c}" for c in "abcdefghij"]:
        task = scenario("08.1", sid)
        messages = int(task.split("n1 sends ")[1].split(" ")[0])
        n1_member = "n1 has a member" in task
        room = task.split("io.to('")[1].split("'")[0]

        def copies(n: int, k: int, m: int = messages, echo: int = n1_member) -> tuple[int, int]:
            return m * n, m * (n - k + echo)

        assert copies(6, 2) == _sim_copies(6, 2, room, messages, n1_member)
        assert check_answer("08.1", copies, variant=sid).ok, sid
        assert not check_answer("08.1", SOLUTIONS["08.1"], variant=sid).ok, sid
        rights[sid] = (messages, n1_member)
    assert len(set(rights.values())) >= 3


def test_09_2_variants_change_the_count() -> None:
    """09.2 for a student: the clients' rooms (and how many there are) differ; the
    count worked out from the student's task (the members of each lost message's room
    on the other nodes) passes, the notebook's 4 fails, and students get different
    counts."""
    import re

    counts = {}
    for sid in (f"s{k}" for k in range(8)):
        task = scenario("09.2", sid)
        ops = re.search(r"n1 sends to '([^']+)'", task).group(1)
        dev = re.search(r"n2 sends to '([^']+)'", task).group(1)
        clients = re.findall(r"(\w+) \((n\d), ([^)]*)\)", task)
        lost = sum(
            (f"'{ops}'" in rooms and node != "n1") + (f"'{dev}'" in rooms and node != "n2")
            for _, node, rooms in clients
        )
        assert 5 <= len(clients) <= 9  # the notebook's five, and 0 to 4 more
        assert check_answer("09.2", lost, variant=sid).ok, (sid, task)
        assert not check_answer("09.2", 4, variant=sid).ok
        counts[sid] = lost
    assert len(set(counts.values())) >= 3


def test_10_1_variants_rename_the_clients_and_the_room() -> None:
    """10.1 for a student: a scenario written with that student's names and room
    passes; the same file fails for another student, and so does the notebook's."""
    first, second = variant("s-a"), variant("s-b")
    one, both, room = first.name("bob"), first.name("carol"), first.room("quiet")
    assert f"{one} receives m1 and not m2" in scenario("10.1", first)
    text = (
        "cluster: {nodes: 1}\n"
        f"clients: [{{name: {one}, node: n1, rooms: [{room}]}},"
        f" {{name: {both}, node: n1, rooms: [{room}]}}]\n"
        "timeline:\n"
        f"  - {{at: 10, emit: {{id: m1, from: n1, to: [{room}]}}}}\n"
        f"  - {{at: 20, leave: {{client: {one}, rooms: [{room}]}}}}\n"
        f"  - {{at: 30, emit: {{id: m2, from: n1, to: [{room}]}}}}\n"
    )
    assert check_answer("10.1", text, variant=first).ok
    assert not check_answer("10.1", text, variant=second).ok
    assert not check_answer("10.1", SOLUTIONS["10.1"], variant=first).ok
