"""Exercises of notebook 06: disconnection, its handlers, and messages in flight."""

from __future__ import annotations

import functools
from collections.abc import Generator
from typing import Any

from roomsim.cluster import Cluster
from roomsim.exercises import Result, Variant, exercise
from roomsim.exercises.answers import keyed, names
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


@exercise(
    "06.1",
    "Which rooms does the disconnecting handler print?",
    answer="a set of room names (bob's own id may be left out)",
    rule=(
        "the server handles a client's packets in the order they arrive, each one latency"
        " after it was sent; `disconnecting` runs before the socket leaves its rooms."
    ),
)
def disconnecting_rooms(answer: Any) -> Result:
    """The answer is a set of room names, the socket's own id left out."""
    got = names(answer)
    printed, sid = _run_switch_then_leave()
    expected = set(printed) - {sid}
    got -= {sid}
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
    extra = sorted(got - expected)
    if extra:
        return Result(
            False,
            f"bob is not in {extra[0]!r} when `disconnecting` runs. Follow bob's rooms:"
            " where he started, and what the switch did when it reached the server.",
        )
    return Result(
        False,
        "a room is missing. Follow bob's rooms: where he started, and what the switch did"
        " when it reached the server.",
    )


# -- 06.2 ---------------------------------------------------------------------------

#: bob closes his side at t=12; the server hears of it one latency (5 ms) later.
BOB_LEAVES_AT = 12
#: The six emits of 06.2: (t, msg id, to the room chat (True) or to everyone (False)).
NEWS = ((5, "m1", True), (8, "m2", True), (14, "m3", True), (18, "m4", True),
        (22, "m5", False), (22, "m6", True))  # fmt: skip
#: The one who leaves comes back at t=20.
BACK_AT = 20


def _leaves_at(v: Variant) -> int:
    return BOB_LEAVES_AT + v.shift_ms


@functools.lru_cache(maxsize=256)
def _news(v: Variant) -> tuple[tuple[float, str, bool], ...]:
    """A variant's six emits ``(t, msg id, to the room)``: the notebook's :data:`NEWS`, or
    for a student other times (1 to 29 ms, none within a millisecond of a moment when a
    packet crosses the leaving or the return), other ids (``m<k+1>`` .. ``m<k+6>``) and
    which go to the room, drawn again until something is received and something dropped."""
    if v.is_default:
        return NEWS
    draw = v.draw("06.2")
    leaves = _leaves_at(v)
    edges = [leaves - 5, leaves, leaves + 5, BACK_AT - 5, BACK_AT, BACK_AT + 5]
    slots = [t for t in range(1, 30) if all(abs(t - e) >= 1 for e in edges)]
    first = draw.randrange(1, 90)
    while True:
        times = sorted(draw.sample(slots, 6))
        news = tuple((float(t), f"m{first + i}", draw.random() < 0.75) for i, t in enumerate(times))
        trace = _run_bob_comes_back(v, news)
        who = v.name(v.leaver)
        if any(c == who for _m, c in trace.deliveries()) and trace.records("drop", client=who):
            return news


def _run_bob_comes_back(
    v: Variant, emits: tuple[tuple[float, str, bool], ...] | None = None
) -> Trace:
    """alice and bob in chat; one of them (bob in the notebook) leaves at t=12 and comes
    back at t=20 (a new socket).  A variant renames them, picks who leaves, and moves the
    leaving later by up to 5 ms."""
    sim = Cluster(nodes=1, client_ms=5)
    io = sim.io("n1")
    chat = v.room("chat")
    clients = {
        base: sim.connect(v.name(base), node="n1", rooms=[chat]) for base in ("alice", "bob")
    }
    leaver = clients[v.leaver]

    def news(env: Any) -> Generator[Any, Any, None]:
        for at, msg, to_room in emits or _news(v):
            yield env.timeout(at - env.now)
            (io.to(chat) if to_room else io).emit("news", msg_id=msg)

    def leaving(env: Any) -> Generator[Any, Any, None]:
        yield env.timeout(_leaves_at(v))
        leaver.disconnect()
        yield env.timeout(BACK_AT - env.now)
        leaver.connect(node="n1")

    sim.process(news)
    sim.process(leaving)
    sim.run(until=100)
    return sim.trace


def _scenario_06_2(v: Variant) -> str:
    who, other = v.name(v.leaver), v.name("bob" if v.leaver == "alice" else "alice")
    sends = ", ".join(
        f"{msg} at t={at:g} to {v.room('chat')!r}" if to_room else f"{msg} at t={at:g} to everyone"
        for at, msg, to_room in _news(v)
    )
    return (
        f"One node, client_ms=5: {other} and {who} are in {v.room('chat')!r}. The server"
        f" sends {sends}. {who} closes their side at t={_leaves_at(v)} and connects again"
        f" (a new socket) at t={BACK_AT}. Which messages does {who} receive, which are dropped?"
    )


@exercise(
    "06.2",
    "Which messages does bob receive, which are dropped?",
    answer='a dict {"received": set of message ids, "dropped": set of message ids}',
    rule=(
        "a message reaches the client if it was written while the server thought the socket"
        " connected and arrived before the client closed its side; written but arriving after"
        " is dropped; after the server has heard of the leaving (one latency later), the old"
        " socket is in no room and nothing is written to it."
    ),
    takes_variant=True,
    scenario=_scenario_06_2,
)
def bob_received_and_dropped(answer: Any, v: Variant) -> Result:
    """The answer is ``{"received": {...}, "dropped": {...}}``, sets of message ids."""
    known = [msg for _at, msg, _room in _news(v)]
    given = keyed(answer, ["received", "dropped"], '{"received": {...}, "dropped": {...}}')
    got = {key: names(given[key], known=known, what=key) for key in ("received", "dropped")}
    who = v.name(v.leaver)
    trace = _run_bob_comes_back(v)
    expected = {
        "received": {msg for msg, client in trace.deliveries() if client == who},
        "dropped": {r["msg"] for r in trace.records("drop", client=who)},
    }
    if got == expected:
        return Result(
            True,
            f"received {_names(expected['received'])}, dropped {_names(expected['dropped'])};"
            " the others were never sent to them.",
        )
    if got["received"] & got["dropped"]:
        msg = sorted(got["received"] & got["dropped"], key=lambda m: int(m[1:]))[0]
        return Result(False, f"{msg} is in both sets: a message is received or dropped, not both.")
    for key, rule in (
        ("received", "it must be written while the server still counts the socket in the room,"
         " and arrive before the client closed its side"),
        ("dropped", "a drop is a message written to the socket that arrives after the client"
         " closed its side; a message for a room the socket has left is never written at all"),
    ):  # fmt: skip
        wrong = sorted(got[key] - expected[key], key=lambda m: int(m[1:]))
        if wrong:
            return Result(False, f"{wrong[0]} is not {key}: {rule}.")
    return Result(
        False,
        "a message is missing from one of the sets. Compare, for each message, when it was"
        f" written, when the server heard of the leaving (t={_leaves_at(v)} + 5) and when"
        f" it arrives.",
    )
