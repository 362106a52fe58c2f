"""Exercises of notebook 07: several nodes joined by the classic Redis adapter."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from roomsim.cluster import Cluster
from roomsim.exercises import Result, Variant, exercise
from roomsim.exercises.answers import keyed, names, whole_number
from roomsim.trace import Trace, discarded


def _names(items: set[str]) -> str:
    return ", ".join(sorted(items)) or "nobody"


# -- 07.1 ---------------------------------------------------------------------------

#: client -> (node, in room1 from the start)
START = {
    "alice": ("n1", True),
    "bob": ("n2", True),
    "carol": ("n2", False),
    "dave": ("n1", True),
    "erin": ("n3", False),
    "frank": ("n3", False),
}
#: (t, client, "join" or "leave") on room1
CHANGES = (
    (12, "carol", "join"),
    (14, "dave", "leave"),
    (15, "erin", "join"),
    (17, "frank", "join"),
)
#: the emit: at t=10, from n2, to room1; adapter_ms is 6
EMIT_AT, EMIT_NODE, ADAPTER_MS = 10, "n2", 6


def _start(v: Variant) -> dict[str, tuple[str, bool]]:
    return {v.name(n): spec for n, spec in START.items()}


def _changes(v: Variant) -> tuple[tuple[int, str, str], ...]:
    """The joins and leaves of a variant: renamed, and erin's join moved later by shift_ms
    when that is 2 or more (never onto t=16, when n3's copy comes: no tie to break)."""
    erin_later = v.shift_ms if v.shift_ms >= 2 else 0
    return tuple(
        sorted(
            (at + (erin_later if who == "erin" else 0), v.name(who), act)
            for at, who, act in CHANGES
        )
    )


def _run_join_times(v: Variant) -> tuple[Trace, str]:
    room = v.room("room1")
    sim = Cluster(nodes=["n1", "n2", "n3"], adapter="redis", client_ms=5, adapter_ms=ADAPTER_MS)
    for name, (node, member) in _start(v).items():
        sim.connect(name, node=node, rooms=[room] if member else [])
    sent: list[str] = []

    def timeline(env: Any) -> Generator[Any, Any, None]:
        yield env.timeout(EMIT_AT)
        sent.append(sim.io(EMIT_NODE).to(room).emit("news"))
        for at, name, action in _changes(v):
            yield env.timeout(at - env.now)
            socket = sim.client(name).socket
            assert socket is not None
            if action == "join":
                socket.join(room)
            else:
                socket.leave(room)

    sim.process(timeline)
    sim.run(until=100)
    return sim.trace, sent[0]


def _scenario_07_1(v: Variant) -> str:
    room = v.room("room1")
    start = _start(v)
    members = ", ".join(f"{n} ({node})" for n, (node, m) in start.items() if m)
    others = ", ".join(f"{n} ({node})" for n, (node, m) in start.items() if not m)
    changes = ", ".join(
        f"{who} {'joins' if act == 'join' else 'leaves'} at t={at}" for at, who, act in _changes(v)
    )
    return (
        f"Three nodes, classic Redis adapter, client_ms=5, adapter_ms={ADAPTER_MS}. In {room!r}"
        f" from the start: {members}; not in it: {others}. At t={EMIT_AT}, {EMIT_NODE} sends"
        f" io.to({room!r}).emit('news'). Then {changes}. Who receives the message?"
    )


def _picked_at(trace: Trace, msg: str, node: str) -> float:
    """When ``node`` chose its recipients of ``msg``: at the emit, or when its copy came."""
    if node == EMIT_NODE:
        return EMIT_AT
    return trace.records("relay", msg=msg, node=node)[0]["t"]


@exercise(
    "07.1",
    "Which clients get the emit, given these join times?",
    answer="a set of client names",
    rule=(
        "each node picks its recipients from its own rooms: the emitting node at the emit,"
        " every other node when the broker's copy reaches it, adapter_ms later."
    ),
    takes_variant=True,
    scenario=_scenario_07_1,
)
def who_gets_it(answer: Any, v: Variant) -> Result:
    """The answer is the set of client names that receive the message."""
    start, room = _start(v), v.room("room1")
    got = names(answer, known=start)
    trace, msg = _run_join_times(v)
    expected = set(trace.recipients(msg))
    if got == expected:
        return Result(
            True,
            f"{_names(expected)}: n2 chose at t={EMIT_AT}, n1 and n3 when the broker's"
            f" copy came, at t={EMIT_AT + ADAPTER_MS}.",
        )
    if not got:
        return Result(
            False, "an empty set: somebody gets it. Start with the room's members at t=10."
        )
    wrong = sorted(got - expected)
    if not wrong:
        return Result(
            False,
            f"someone is missing: a client gets it if it is in {room} on its node when that"
            f" node picks (n2 at t={EMIT_AT}, the others when the broker's copy comes).",
        )
    name = wrong[0]
    node = start[name][0]
    picked = _picked_at(trace, msg, node)
    how = "it emitted" if node == EMIT_NODE else "its copy came from the broker"
    hint = f"{name} is on {node}, which chose its recipients at t={picked:g} ({how})"
    change = next(((at, act) for at, who, act in _changes(v) if who == name), None)
    if change is not None:
        hint += f"; {name} {'joined' if change[1] == 'join' else 'left'} {room} at t={change[0]}"
    more = f" ({len(wrong) - 1} more of yours to look at)" if len(wrong) > 1 else ""
    return Result(False, f"not {name}: {hint}{more}.")


# -- 07.2 ---------------------------------------------------------------------------

#: the cluster of 07.2: five nodes; room "game" has members on n3 only; n1 emits
NODES = 5
GAME_NODE = "n3"


def _run_copies() -> tuple[Trace, str]:
    sim = Cluster(nodes=NODES, adapter="redis", client_ms=5, adapter_ms=2)
    for i, node in enumerate(sim.nodes, start=1):
        sim.connect(f"player{i}", node=node, rooms=["game"] if node == GAME_NODE else [])
    msg = sim.io("n1").to("game").emit("move")
    sim.run(until=100)
    return sim.trace, msg


@exercise(
    "07.2",
    "How many copies does the broker hand out?",
    answer='a dict {"handed_out": whole number, "thrown_away": whole number}',
    rule=(
        "the classic adapter hands every broadcast to every node (the publisher included);"
        " a node uses its copy only if it has a member of the room and did not publish it."
    ),
)
def broker_copies(answer: Any) -> Result:
    """The answer is ``{"handed_out": n, "thrown_away": k}``."""
    given = keyed(answer, ["handed_out", "thrown_away"], '{"handed_out": 1, "thrown_away": 0}')
    if given["handed_out"] is None or given["thrown_away"] is None:
        return Result(False, "fill in both numbers.")
    answer = {key: whole_number(val, key) for key, val in given.items()}
    trace, msg = _run_copies()
    relays = trace.records("relay", msg=msg)
    handed_out = len(relays)
    thrown = [r for r in relays if discarded(r)]
    if answer["handed_out"] != handed_out:
        return Result(
            False,
            "handed_out: the classic adapter subscribes every node to every broadcast"
            " channel (PSUBSCRIBE socket.io#/#*), the node that published included. Count"
            " the nodes.",
        )
    if answer["thrown_away"] != len(thrown):
        return Result(
            False,
            f"thrown_away: only {GAME_NODE} has a member of 'game'. Every other node throws"
            " its copy away: the publisher its own echo (or a room it lacks), the others a"
            " room they do not have.",
        )
    return Result(
        True,
        f"{handed_out} copies, one per node, and {len(thrown)} thrown away: only"
        f" {GAME_NODE} had someone in the room. The classic adapter's cost grows with the"
        " number of nodes, whoever is in the room.",
    )
