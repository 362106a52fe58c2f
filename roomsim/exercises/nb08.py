"""Exercises of notebook 08: what the classic and the sharded Redis adapters cost."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from roomsim.cluster import Cluster
from roomsim.exercises import Result, Variant, exercise
from roomsim.exercises.answers import function, keyed, pair_of_numbers
from roomsim.trace import Trace, discarded


def _copies(trace: Trace, msg: str) -> tuple[int, int]:
    """(copies the broker handed to nodes, copies a node threw away) for ``msg``."""
    relays = trace.records("relay", msg=msg)
    thrown = [r for r in relays if discarded(r)]
    return len(relays), len(thrown)


def _n(count: int) -> str:
    return f"{count} {'copy' if count == 1 else 'copies'}"


def _pair(value: Any, what: str = "the answer") -> tuple[int, int]:
    """Two whole numbers (4.0 is 4; 2.9 is refused, never truncated)."""
    return pair_of_numbers(value, what)


# -- 08.1 ---------------------------------------------------------------------------

#: (nodes, nodes with a member of the room) tried by the check
CASES = ((5, 2), (2, 1), (3, 1), (10, 1), (20, 4), (50, 3))


def _setup_08_1(v: Variant) -> tuple[str, int, bool]:
    """A variant's room, how many messages n1 sends to it, and whether n1 has a member.

    The notebook's version: one message to "game", and n1 has nobody in it.
    A student's: 2 to 9 messages, and n1 with or without a member (then n1
    is one of the nodes with the room).
    """
    if v.is_default:
        return "game", 1, False
    draw = v.draw("08.1")
    return v.room("chat"), draw.choice(range(2, 10)), draw.random() < 0.5


def _run_classic(nodes: int, with_room: int, v: Variant | None = None) -> tuple[int, int]:
    """n1 sends to the room on ``nodes`` nodes, ``with_room`` of which have a member:
    n2 .. n<with_room + 1>, or n1 .. n<with_room> when the variant's n1 has one."""
    room, messages, sender_member = _setup_08_1(v or Variant(""))
    first = 1 if sender_member else 2
    sim = Cluster(nodes=nodes, adapter="redis", client_ms=5, adapter_ms=2)
    for i, node in enumerate(sim.nodes, start=1):
        member = first <= i < first + with_room
        sim.connect(f"user{i}", node=node, rooms=[room] if member else [])
    sent = [sim.io("n1").to(room).emit("move") for _ in range(messages)]
    sim.run(until=100)
    counts = [_copies(sim.trace, msg) for msg in sent]
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def _scenario_08_1(v: Variant) -> str:
    room, messages, sender_member = _setup_08_1(v)
    sends = "one message" if messages == 1 else f"{messages} messages, one after the other,"
    where = (
        f"n1 has a member of {room!r} too (it is one of the nodes_with_room)"
        if sender_member
        else f"n1 has nobody in {room!r}; nodes_with_room of the other nodes have a member"
    )
    return (
        f"Classic Redis adapter, any number of nodes: n1 sends {sends} with"
        f" io.to({room!r}).emit('move'); {where}. copies(nodes, nodes_with_room) returns"
        " (handed_out, thrown_away) for all the messages together."
    )


@exercise(
    "08.1",
    "Classic adapter: copies handed out and thrown away, for any number of nodes",
    answer="a function copies(nodes, nodes_with_room) -> (handed_out, thrown_away)",
    rule=(
        "with the classic adapter every node, the publisher included, gets a copy of every"
        " broadcast; only the nodes with a member of the room use theirs, and the publisher"
        " never uses its own (it wrote to its members at the emit)."
    ),
    takes_variant=True,
    scenario=_scenario_08_1,
)
def classic_copies(answer: Callable[[int, int], Any], v: Variant) -> Result:
    """The answer is a function ``f(nodes, nodes_with_room) -> (handed_out, thrown_away)``."""
    copies = function(answer, "def copies(nodes, nodes_with_room): return handed_out, thrown_away")
    _, messages, sender_member = _setup_08_1(v)
    for nodes, with_room in CASES:
        handed_out, thrown_away = _run_classic(nodes, with_room, v)
        said = copies(nodes, with_room)
        if said is None or (isinstance(said, tuple) and None in said):
            return Result(False, "fill in both numbers: return handed_out, thrown_away.")
        got_out, got_thrown = _pair(said, f"copies({nodes}, {with_room})")
        case = f"with {nodes} nodes and the room on {with_room}"
        if got_out != handed_out:
            if got_out == messages * with_room != messages * (nodes - 1):
                hint = (
                    "that is what dynamic sharding does. The classic adapter hands every"
                    " broadcast to every node, whether the room is there or not."
                )
            elif got_out == messages * (nodes - 1):
                hint = (
                    "the publisher gets its own copy back too: every node, n1 included,"
                    " listens with PSUBSCRIBE socket.io#/#*."
                )
            elif messages > 1 and got_out * messages == handed_out:
                hint = "each message is a broadcast of its own, with copies of its own."
            else:
                hint = "count the nodes that get the room's channel: all of them."
            return Result(
                False, f"{case} you say {_n(got_out)} handed out, roomsim counts otherwise: {hint}"
            )
        if got_thrown != thrown_away:
            hint = (
                " only the nodes with a member of the room use their copy. The publisher"
                " throws away its own echo ('own message'), the other nodes a room they"
                " do not have ('unknown room')."
            )
            if sender_member:
                hint += " n1 throws its echo away even with a member: it wrote to it at the emit."
            return Result(
                False,
                f"{case} you say {_n(got_thrown)} thrown away, roomsim counts otherwise:{hint}",
            )
    return Result(
        True,
        "one copy per node and message whatever the room, and all but the room's nodes"
        " (other than the publisher) thrown away: with rooms on k of N nodes, at most k/N"
        " of the copies are of any use.",
    )


# -- 08.2 ---------------------------------------------------------------------------

#: client -> (node, rooms); six nodes, sharded Redis, dynamic subscriptions
MEMBERS = {
    "ann": ("n1", ["lobby"]),
    "ben": ("n2", ["game", "lobby"]),
    "cat": ("n3", ["lobby"]),
    "dan": ("n4", ["lobby"]),
    "eve": ("n5", ["game"]),
    "fay": ("n6", []),
}
#: part -> (t, sending node, rooms)
EMITS = {
    "a": (10, "n1", ["game"]),
    "b": (20, "n2", ["game"]),
    "c": (30, "n1", ["game", "lobby"]),
}


def _run_sharded() -> dict[str, tuple[int, int]]:
    sim = Cluster(nodes=6, adapter="sharded-redis", client_ms=5, adapter_ms=2)
    for name, (node, rooms) in MEMBERS.items():
        sim.connect(name, node=node, rooms=rooms)
    sent: dict[str, str] = {}

    def timeline(env: Any) -> Generator[Any, Any, None]:
        for part, (at, node, rooms) in EMITS.items():
            yield env.timeout(at - env.now)
            sent[part] = sim.io(node).to(rooms).emit("news")

    sim.process(timeline)
    sim.run(until=200)
    return {part: _copies(sim.trace, msg) for part, msg in sent.items()}


HINTS = {
    ("a", 0): (
        "a broadcast to exactly one room goes on that room's channel, socket.io#/#game#;"
        " in dynamic mode a node subscribes to it only while the room exists on it."
    ),
    ("a", 1): "n1 has nobody in game, so it is not subscribed to game's channel: no echo.",
    ("b", 0): (
        "n2 has ben in game, so it is subscribed to game's channel and its own copy comes back."
    ),
    ("b", 1): "n2 throws its own copy away ('own message'); eve's node uses its copy.",
    ("c", 0): (
        "a broadcast to two rooms is not a single-room broadcast: it goes on the main"
        " channel, socket.io#/#, which every node subscribes to."
    ),
    ("c", 1): (
        "the publisher throws away its echo, and a node with nobody in game or lobby finds"
        " no one to write to."
    ),
}


@exercise(
    "08.2",
    "Sharded Redis, dynamic mode: copies for these memberships",
    answer='a dict {"a": (handed_out, thrown_away), "b": (...), "c": (...)} of whole numbers',
    rule=(
        "a broadcast to exactly one room goes on that room's channel, to the nodes that have"
        " the room (the publisher's echo included); any other broadcast goes to every node."
    ),
)
def sharded_copies(answer: Any) -> Result:
    """The answer is ``{"a": (handed_out, thrown_away), "b": (...), "c": (...)}``."""
    given = keyed(answer, list(EMITS), '{"a": (2, 0), "b": (...), "c": (...)}')
    if any(value is None for value in given.values()):
        return Result(False, "fill in a pair (handed_out, thrown_away) for each part.")
    pairs = {part: _pair(value, f"({part})") for part, value in given.items()}
    expected = _run_sharded()
    for part, right in expected.items():
        got = pairs[part]
        for i, what in enumerate(("copies handed out", "copies thrown away")):
            if got[i] != right[i]:
                return Result(False, f"({part}) {what}: {HINTS[part, i]}")
    return Result(
        True,
        "single-room broadcasts reach only the nodes that have the room (the publisher's"
        " echo included, if it has it); anything else still reaches every node.",
    )
