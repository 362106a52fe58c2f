"""Exercises of notebook 04: each socket's own room and private messages.

04.1 takes the student's ``connection`` handler and runs it on two nodes
joined by the Redis adapter; 04.2 asks which private messages reach a client
that disconnects and comes back.  Both checks run the simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from roomsim.cluster import Cluster
from roomsim.exercises import Result, exercise
from roomsim.exercises.answers import function, ordered_texts
from roomsim.exercises.bounds import run_bounded

#: Clients of exercise 04.1 and their nodes.
NODES: dict[str, str] = {"alice": "n1", "bob": "n2", "carol": "n1", "dave": "n2"}

#: Private messages of exercise 04.1, 10 ms apart: (sender, addressee, text).
PRIVATE: tuple[tuple[str, str, str], ...] = (
    ("alice", "bob", "hi bob"),  # from n1 to n2
    ("carol", "alice", "psst"),  # both on n1
)


def _cluster() -> Cluster:
    return Cluster(nodes=["n1", "n2"], adapter="redis", client_ms=5, adapter_ms=2)


def _run_private(on_connection: Callable[[Any], Any]) -> tuple[dict[str, list[tuple]], Cluster]:
    """Install ``on_connection`` on both nodes, play :data:`PRIVATE`; each client's
    ``private message`` arguments, in order, and the cluster (a bounded run)."""
    sim = _cluster()
    sim.on("connection", on_connection)
    got: dict[str, list[tuple]] = {}
    for name, node in NODES.items():
        client = sim.connect(name, node=node)
        got[name] = []
        client.on("private message", lambda *args, name=name: got[name].append(args))

    def messages(env: Any) -> Any:
        for sender, to, text in PRIVATE:
            yield env.timeout(10)
            sim.client(sender).emit("private message", sim.client(to).id, text)

    sim.process(messages)
    run_bounded(sim)
    return got, sim


def _expected(sim: Cluster) -> dict[str, list[tuple]]:
    """Each addressee gets (the sender's socket id, the text); nobody else gets anything."""
    return {
        name: [(sim.client(s).id, text) for s, to, text in PRIVATE if to == name] for name in NODES
    }


@exercise(
    "04.1",
    "Private messages across two nodes",
    answer="a function on_connection(socket)",
    rule=(
        "on 'private message' (id, text), send ('private message', socket.id, text) to the"
        " room named by the id: every socket is in a room named by its own id, on any node."
    ),
)
def private_messages(answer: Any) -> Result:
    """The answer is a function ``on_connection(socket)``."""
    handler = function(answer, "def on_connection(socket): ...")
    got, sim = _run_private(handler)
    expected = _expected(sim)
    names = {c.id: c.name for c in sim.clients.values()}
    if got == expected:
        return Result(
            True, "each message reached its addressee, on its node, with the sender's id."
        )
    for name, args in got.items():
        for arg in args:
            if arg in expected[name]:
                continue
            shown = tuple(f"{names[a]}.id" if a in names else a for a in arg)
            sender, to, text = next((m for m in PRIVATE if m[2] in arg), ("?", "?", "?"))
            if name == sender:
                return Result(
                    False,
                    f"{sender}'s message to {to} came back to {sender} as {shown}: socket.emit"
                    " answers the sender; send to the addressee, socket.to(anotherSocketId).",
                )
            if name != to:
                return Result(
                    False,
                    f"{name} got {shown}, {sender}'s message to {to}: send it to the"
                    " addressee's own room only, socket.to(anotherSocketId).",
                )
            return Result(
                False,
                f"{name} got {shown}: send the sender's id first, then the text:"
                " emit('private message', socket.id, msg).",
            )
    for sender, to, text in PRIVATE:
        if not any(text in arg for arg in got[to]):
            return Result(
                False,
                f"{to} (on {NODES[to]}; {sender} on {NODES[sender]}) did not get {text!r}: in a"
                " socket.on('private message', ...) handler, send it on to the room named by"
                " the id the client gave.",
            )
    return Result(False, "each message should reach its addressee once.")


# -- 04.2: a message to an id that is gone ----------------------------------------------------


def _relay(socket: Any) -> None:
    """The rooms page's private-message handler (used by 04.2's simulation)."""

    @socket.on("private message")
    def private_message(another_socket_id: str, msg: str) -> None:
        socket.to(another_socket_id).emit("private message", socket.id, msg)


#: Why each text of 04.2 does or does not reach bob (the hint for a wrong answer).
WHY: dict[str, str] = {
    "one": "'one' went to bob's id while he was connected.",
    "two": (
        "bob was disconnected when 'two' was sent: no socket had that id, and Socket.IO"
        " keeps no queue for it, so it was lost, not saved for later."
    ),
    "three": (
        "bob came back with a new id: the old id names a room nobody is in, so 'three'"
        " reached no one."
    ),
    "four": "'four' went to bob's new id, his own room now.",
}


def _gone_and_back() -> list[str]:
    """Play 04.2's timeline (alice on n1, bob on n2, then n1); the texts bob gets, in order."""
    sim = _cluster()
    sim.on("connection", _relay)
    alice = sim.connect("alice", node="n1")
    bob = sim.connect("bob", node="n2")
    got: list[str] = []
    bob.on("private message", lambda sid, msg: got.append(msg))

    def timeline(env: Any) -> Any:
        old_id = bob.id
        yield env.timeout(10)
        alice.emit("private message", old_id, "one")
        yield env.timeout(30)  # t = 40
        bob.disconnect()
        yield env.timeout(30)  # t = 70
        alice.emit("private message", old_id, "two")
        yield env.timeout(30)  # t = 100
        bob.connect(node="n1")  # a new socket, a new id
        yield env.timeout(30)  # t = 130
        alice.emit("private message", old_id, "three")
        yield env.timeout(30)  # t = 160
        alice.emit("private message", bob.id, "four")

    sim.process(timeline)
    sim.run()
    return got


@exercise(
    "04.2",
    "Which private messages reach bob?",
    answer="a list of texts, in order, such as ['one']",
    rule=(
        "a message to a socket id reaches that socket only while it is connected; nothing is"
        " kept for a socket that is gone, and a client that comes back has a new id."
    ),
)
def which_reach_bob(answer: Any) -> Result:
    """The answer is the list of texts bob receives, in order (a list: a set has no order,
    so it is refused the same way under any hash seed)."""
    given = ordered_texts(answer, known=list(WHY))
    if not given:
        return Result(False, "list the texts bob gets, in order, such as ['one'].")
    right = _gone_and_back()
    if given == right:
        return Result(
            True, f"bob gets {', '.join(right)}: nothing waits for a socket id that is gone."
        )
    extra = [t for t in given if t not in right]
    if extra:
        return Result(False, WHY[extra[0]])
    missing = [t for t in right if t not in given]
    if missing:
        return Result(
            False,
            "a message bob gets is missing: a message sent to the id of a socket that is"
            " connected at that moment reaches it.",
        )
    return Result(False, "list each text once, in the order bob gets them.")
