"""The project's grader: the specification's model, correctness, Socket.IO's rules, cost,
and the leaderboard.

The grader's expected inboxes come from a model of the rooms (course/project/
grade_project.py's ``expected``), never from a handler's run; the tests below check
the model on a hand-made workload, then the grader on typical submissions.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "course" / "project"


def _grader():
    spec = importlib.util.spec_from_file_location("grade_project", PROJECT / "grade_project.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["grade_project"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


G = _grader()

#: Presence sent room by room: a socket in two of the leaver's rooms hears twice.
PER_ROOM = """
def on_connection(socket):
    user = socket.client.name.split("-")[0]
    socket.join(f"user:{user}")

    @socket.on("join")
    def join(room):
        if room not in socket.rooms:
            socket.join(room)
            socket.to(room).emit("joined", room, user)

    @socket.on("say")
    def say(room, text):
        if room not in socket.rooms:
            socket.emit("error", f"not in {room}")
        else:
            socket.to(room).emit("message", room, user, text)

    @socket.on("whisper")
    def whisper(to, text):
        socket.to(f"user:{to}").emit("private", user, text)

    @socket.on("disconnecting")
    def disconnecting(reason):
        for room in list(socket.rooms):
            if room != socket.id and not room.startswith("user:"):
                socket.to(room).emit("left", user)
"""

#: Room by room, but each excluding the rooms already told: right, and costlier.
PER_ROOM_EXCEPT = PER_ROOM.replace(
    """        for room in list(socket.rooms):
            if room != socket.id and not room.startswith("user:"):
                socket.to(room).emit("left", user)""",
    """        mine = (socket.id, f"user:{user}")
        rooms = sorted(r for r in socket.rooms if r not in mine)
        for i, room in enumerate(rooms):
            op = socket.to(room)
            if i:
                op = op.except_(rooms[:i])
            op.emit("left", user)""",
)

#: Right, plus a heartbeat that never ends: the grader must not hang.
HEARTBEAT = (
    (PROJECT / "reference.py").read_text()
    + """

_right = on_connection


def on_connection(socket):
    _right(socket)

    def beat(env):
        while True:
            yield env.timeout(100)

    socket.nsp.env.process(beat(socket.nsp.env))
"""
)


def test_the_model_follows_the_specification() -> None:
    """On a hand-made workload: a join tells the room's others; a chat from outside the
    room is an error to the sender; a whisper reaches every device of the user; a leaving
    is told once to each socket that shared a room, even one sharing two."""
    w = G.Workload(
        0,
        "redis",
        (
            ("join", "ann-phone", "dev"),
            ("join", "ben-laptop", "dev"),
            ("join", "ann-phone", "ops"),
            ("join", "ben-laptop", "ops"),
            ("say", "cat-phone", "dev", "hi"),
            ("say", "ben-laptop", "dev", "yo"),
            ("whisper", "cat-phone", "eve", "psst"),
            ("disconnect", "ann-phone"),
        ),
    )
    inbox = G.expected(w)
    assert inbox["ann-phone"] == [
        ("joined", "dev", "ben"),
        ("joined", "ops", "ben"),
        ("message", "dev", "ben", "yo"),
    ]
    assert inbox["ben-laptop"] == [("left", "ann")]  # once, though they shared two rooms
    assert inbox["cat-phone"] == [("error", "not in dev")]
    assert inbox["eve-phone"] == inbox["eve-laptop"] == [("private", "cat", "psst")]
    assert inbox["ann-laptop"] == []


def test_the_reference_is_correct_and_meets_the_target(tmp_path: Path) -> None:
    """The reference passes every workload with no violation."""
    report = G.evaluate(G.load_handler(PROJECT / "reference.py"), "reference")
    assert report.correct == report.workloads == 6
    assert report.violations == 0
    assert 0 < report.copies_per_delivery < 3


def test_the_leaderboard_ranks_correct_then_cheap(tmp_path: Path) -> None:
    """The reference ranks first; the room-by-room send with except_ is right but
    costlier; room by room without except_ tells some sockets twice (wrong); the starter
    gets nothing right; a heartbeat that never ends is stopped, not hung. The CSV has a
    row per submission."""
    files = {}
    for name, text in {
        "per_room.py": PER_ROOM,
        "per_room_except.py": PER_ROOM_EXCEPT,
        "heartbeat.py": HEARTBEAT,
    }.items():
        files[name] = tmp_path / name
        files[name].write_text(text)
    paths = [
        PROJECT / "starter.py",
        files["per_room.py"],
        PROJECT / "reference.py",
        files["per_room_except.py"],
        files["heartbeat.py"],
    ]
    out = tmp_path / "leaderboard.csv"
    rows = G.leaderboard(paths, out)
    by_name = {r["submission"]: r for r in rows}
    assert rows[0]["submission"] in ("reference.py", "heartbeat.py")
    assert by_name["reference.py"]["correct"] == "6/6"
    assert by_name["reference.py"]["meets_cost_target"]
    assert by_name["per_room_except.py"]["correct"] == "6/6"
    assert (
        by_name["per_room_except.py"]["copies_per_delivery"]
        > by_name["reference.py"]["copies_per_delivery"]
    )
    assert by_name["per_room_except.py"]["rank"] > by_name["reference.py"]["rank"]
    assert by_name["per_room.py"]["correct"] != "6/6"
    assert "left" in by_name["per_room.py"]["first_problem"]
    assert by_name["starter.py"]["correct"] == "0/6"
    assert not by_name["starter.py"]["meets_cost_target"]
    with out.open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert [r["submission"] for r in table] == [r["submission"] for r in rows]
    assert [int(r["rank"]) for r in table] == list(range(1, len(paths) + 1))


def test_a_submission_that_does_not_load_is_ranked_last(tmp_path: Path) -> None:
    """A file with a syntax error gets a row saying so, not a crash."""
    broken = tmp_path / "broken.py"
    broken.write_text("def on_connection(socket)\n")
    rows = G.leaderboard([broken, PROJECT / "reference.py"])
    assert rows[-1]["submission"] == "broken.py"
    assert "does not load" in rows[-1]["first_problem"]


@pytest.mark.parametrize("adapter", G.ADAPTERS)
def test_workloads_are_seeded(adapter: str) -> None:
    """The same seed gives the same workload; another seed another one."""
    assert G.workload(1, adapter) == G.workload(1, adapter)
    assert G.workload(1, adapter).actions != G.workload(2, adapter).actions
