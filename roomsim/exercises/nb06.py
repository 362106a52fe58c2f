"""Exercises of notebook 06: disconnection, its handlers, and messages in flight."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from roomsim.cluster import Cluster
from roomsim.exercises import Result, exercise
from roomsim.trace import Trace


def _names(items: set[str]) -> str:
    return ", ".join(sorted(items)) or "nothing"


# -- 06.1 ---------------------------------------------------------------------------


def _run_switch_then_leave() -> tuple[list[str], str]:
    """bob is in lobby and game:1; at t=10 he asks to switch to game:2, at t=12 he leaves.

    Returns the rooms his ``disconnecting`` handler saw, and his socket id.
    """
    sim = Cluster(nodes=1, client_ms=5)
    printed: list[str] = []

    @sim.on("connection")
    def on_connection(socket: Any) -> None:
        @socket.on("switch game")
        def switch_game(game: str) -> None:
            for room in list(socket.rooms):
                if room.startswith("game:"):
                    socket.leave(room)
            socket.join(game)

        @socket.on("disconnecting")
        def disconnecting(reason: str) -> None:
            printed.extend(socket.rooms)

    bob = sim.connect("bob", node="n1", rooms=["lobby", "game:1"])
    sid = bob.id

    def timeline(env: Any) -> Generator[Any, Any, None]:
        yield env.timeout(10)
        bob.emit("switch game", "game:2")
        yield env.timeout(2)
        bob.disconnect()

    sim.process(timeline)
    sim.run(until=100)
    return printed, sid  # type: ignore[return-value]


@exercise("06.1", "Which rooms does the disconnecting handler print?")
def disconnecting_rooms(answer: Any) -> Result:
    """The answer is a set of room names, the socket's own id left out."""
    printed, sid = _run_switch_then_leave()
    expected = set(printed) - {sid}
    got = {str(room) for room in answer} - {sid}
    if got == expected:
        return Result(
            True,
            f"{_names(expected)} (and bob's own id): the switch reached the server at t=15,"
            " the news of his leaving at t=17, and `disconnecting` runs before he leaves"
            " his rooms.",
        )
    if not got:
        return Result(
            False,
            "`disconnecting` runs while the socket is still in its rooms; it is"
            " `disconnect`, just after, that sees none.",
        )
    if "game:1" in got:
        return Result(
            False,
            'bob sent "switch game" at t=10 and disconnected at t=12; each reaches the'
            " server 5 ms later, in that order. Which one does the server handle first?",
        )
    return Result(
        False,
        f"not quite: missing {_names(expected - got)}, extra {_names(got - expected)}."
        " Follow bob's rooms: where he started, what the switch did at t=15.",
    )


# -- 06.2 ---------------------------------------------------------------------------

#: bob closes his side at t=12; the server hears of it one latency (5 ms) later.
BOB_LEAVES_AT = 12


def _run_bob_comes_back() -> Trace:
    """alice and bob in chat; bob leaves at t=12 and comes back at t=20 (a new socket)."""
    sim = Cluster(nodes=1, client_ms=5)
    io = sim.io("n1")
    sim.connect("alice", node="n1", rooms=["chat"])
    bob = sim.connect("bob", node="n1", rooms=["chat"])

    def timeline(env: Any) -> Generator[Any, Any, None]:
        yield env.timeout(5)
        io.to("chat").emit("news", msg_id="m1")
        yield env.timeout(3)  # t = 8
        io.to("chat").emit("news", msg_id="m2")
        yield env.timeout(4)  # t = 12
        bob.disconnect()
        yield env.timeout(2)  # t = 14
        io.to("chat").emit("news", msg_id="m3")
        yield env.timeout(4)  # t = 18
        io.to("chat").emit("news", msg_id="m4")
        yield env.timeout(2)  # t = 20
        bob.connect(node="n1")
        yield env.timeout(2)  # t = 22
        io.emit("news", msg_id="m5")
        io.to("chat").emit("news", msg_id="m6")

    sim.process(timeline)
    sim.run(until=100)
    return sim.trace


def _fate(trace: Trace, msg: str) -> str:
    """What happened to ``msg`` for bob, with the times, in a sentence."""
    emitted = trace.records("emit", msg=msg)[0]["t"]
    for rec in trace.records(msg=msg, client="bob"):
        if rec["kind"] == "deliver":
            return f"{msg} (sent at t={emitted}) reached bob at t={rec['t']}"
        if rec["kind"] == "drop":
            return (
                f"{msg} was written to bob at t={emitted} and arrived at t={rec['t']}, after"
                f" he had closed his side (t={BOB_LEAVES_AT}): dropped"
            )
    gone = trace.records("disconnect", client="bob")[0]["t"]
    return (
        f"{msg} (sent at t={emitted}) was never meant for bob: his old socket had left"
        f" every room at t={gone}, his new one is in no room but its own"
    )


@exercise("06.2", "Which messages does bob receive, which are dropped?")
def bob_received_and_dropped(answer: Any) -> Result:
    """The answer is ``{"received": {...}, "dropped": {...}}``, sets of message ids."""
    if not isinstance(answer, dict) or set(answer) != {"received", "dropped"}:
        return Result(False, 'the answer is a dict: {"received": {...}, "dropped": {...}}.')
    trace = _run_bob_comes_back()
    expected = {
        "received": {msg for msg, client in trace.deliveries() if client == "bob"},
        "dropped": {r["msg"] for r in trace.records("drop", client="bob")},
    }
    got = {key: {str(m) for m in answer[key]} for key in expected}
    known = {r["msg"] for r in trace.records("emit")}
    unknown = (got["received"] | got["dropped"]) - known
    if unknown:
        return Result(False, f"{_names(unknown)}: the messages are {_names(known)}.")
    if got == expected:
        return Result(
            True,
            f"received {_names(expected['received'])}, dropped {_names(expected['dropped'])};"
            " the others were never sent to him.",
        )
    wrong = sorted(
        (got["received"] ^ expected["received"]) | (got["dropped"] ^ expected["dropped"]),
        key=lambda m: int(m[1:]),
    )
    more = f" ({len(wrong) - 1} more to look at)" if len(wrong) > 1 else ""
    return Result(False, f"one of them: {_fate(trace, wrong[0])}{more}.")
