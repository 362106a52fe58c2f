"""Exercises of notebook 04: each socket's own room and private messages.

04.1 takes the student's ``connection`` handler and runs it on two nodes
joined by the Redis adapter; 04.2 asks which private messages reach a client
that disconnects and comes back.  Both checks run the simulation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from roomsim.cluster import Cluster
from roomsim.exercises import Result, Variant, exercise
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


#: The words a variant of 04.2 picks its four texts from (the notebook's: one .. four).
TEXT_POOL = (
    "hi", "ping", "tea", "lunch", "ok", "bye", "hey", "sos", "ta", "wave", "yes", "no",
)  # fmt: skip
#: Whatever a variant draws, a send is at least this far (ms) from the leaving and the
#: return: no message is caught on the wire, so each text has one plain reason.
CLEAR_MS = 20


@dataclass(frozen=True)
class Gone:
    """The timeline of 04.2 in one variant: ``sender`` (on n1) sends four private
    messages ``(t, text, to the new id)``; ``receiver`` (on n2) disconnects at
    ``leave_at`` and connects again on ``back_node`` at ``back_at`` (a new id)."""

    sender: str
    receiver: str
    leave_at: int
    back_at: int
    back_node: str
    sends: tuple[tuple[int, str, bool], ...]

    @property
    def texts(self) -> list[str]:
        """The four texts, in the order they are sent."""
        return [text for _t, text, _new in self.sends]


#: The notebook's timeline: alice sends one, two, three to bob's old id, four to his new.
NOTEBOOK_GONE = Gone(
    "alice", "bob", 40, 100, "n1",
    ((10, "one", False), (70, "two", False), (130, "three", False), (160, "four", True)),
)  # fmt: skip


@functools.lru_cache(maxsize=256)
def _gone(v: Variant) -> Gone:
    """A variant's timeline: names, who leaves (the variant's leaver), when, where the
    client comes back, the texts and when each is sent to which id.  One or two texts
    are sent before the leaving, one or two while away, the rest after the return (to
    the old id or the new one), each at least :data:`CLEAR_MS` from the leaving and the
    return."""
    if v.is_default:
        return NOTEBOOK_GONE
    draw = v.draw("04.2")
    receiver = v.leaver
    sender = "alice" if receiver == "bob" else "bob"
    leave_at = draw.choice((40, 50, 60))
    back_at = leave_at + draw.choice((50, 60, 70))
    before = range(10, leave_at - CLEAR_MS + 1, 10)
    away = range(leave_at + CLEAR_MS, back_at - CLEAR_MS + 1, 10)
    after = range(back_at + CLEAR_MS, back_at + 100, 10)
    n_before, n_away = draw.choice(((1, 1), (1, 2), (2, 1)))
    times = (
        sorted(draw.sample(before, n_before))
        + sorted(draw.sample(away, n_away))
        + sorted(draw.sample(after, 4 - n_before - n_away))
    )
    texts = draw.sample(TEXT_POOL, 4)
    sends = tuple(
        (t, text, t > back_at and draw.random() < 0.5) for t, text in zip(times, texts, strict=True)
    )
    return Gone(
        v.name(sender), v.name(receiver), leave_at, back_at, draw.choice(("n1", "n2")), sends
    )


def _why(gone: Gone, text: str) -> str:
    """Why ``text`` does or does not reach the receiver (the hint for a wrong answer)."""
    at, new = next((t, n) for t, x, n in gone.sends if x == text)
    who = gone.receiver
    if at < gone.leave_at:
        return f"{text!r} went to {who}'s id while {who} was connected."
    if at < gone.back_at:
        return (
            f"{who} was disconnected when {text!r} was sent: no socket had that id, and"
            " Socket.IO keeps no queue for it, so it was lost, not saved for later."
        )
    if not new:
        return (
            f"{who} came back with a new id: the old id names a room nobody is in, so"
            f" {text!r} reached no one."
        )
    return f"{text!r} went to {who}'s new id, {who}'s own room now."


def _gone_and_back(gone: Gone = NOTEBOOK_GONE) -> list[str]:
    """Play 04.2's timeline (the sender on n1, the receiver on n2 then ``back_node``);
    the texts the receiver gets, in order."""
    sim = _cluster()
    sim.on("connection", _relay)
    sender = sim.connect(gone.sender, node="n1")
    receiver = sim.connect(gone.receiver, node="n2")
    got: list[str] = []
    receiver.on("private message", lambda sid, msg: got.append(msg))
    events: list[tuple[int, int, str, bool]] = [(t, 1, text, new) for t, text, new in gone.sends]
    events += [(gone.leave_at, 0, "", False), (gone.back_at, 0, "", True)]

    def timeline(env: Any) -> Any:
        old_id = receiver.id
        for at, kind, text, flag in sorted(events):
            yield env.timeout(at - env.now)
            if kind == 0 and not flag:
                receiver.disconnect()
            elif kind == 0:
                receiver.connect(node=gone.back_node)  # a new socket, a new id
            else:
                sender.emit("private message", receiver.id if flag else old_id, text)

    sim.process(timeline)
    sim.run()
    return got


def _scenario_04_2(v: Variant) -> str:
    gone = _gone(v)
    who = gone.receiver
    events = [(t, f"{text!r} to {who}'s {'new' if new else 'old'} id at t={t}")
              for t, text, new in gone.sends]  # fmt: skip
    events += [
        (gone.leave_at, f"{who} disconnects at t={gone.leave_at}"),
        (gone.back_at, f"{who} connects again (on {gone.back_node}) at t={gone.back_at}"),
    ]
    said = "; ".join(e for _t, e in sorted(events))
    return (
        f"Two nodes, Redis adapter, client_ms=5, adapter_ms=2, the rooms page's"
        f" private-message relay on both. {gone.sender} (n1) sends private messages, {who}"
        f" is on n2: {said}. Which texts does {who} receive, in order? Give a list."
    )


@exercise(
    "04.2",
    "Which private messages reach bob?",
    answer="a list of texts, in order, such as ['one']",
    rule=(
        "a message to a socket id reaches that socket only while it is connected; nothing is"
        " kept for a socket that is gone, and a client that comes back has a new id."
    ),
    takes_variant=True,
    scenario=_scenario_04_2,
)
def which_reach_bob(answer: Any, v: Variant) -> Result:
    """The answer is the list of texts the receiver gets, in order (a list: a set has no
    order, so it is refused the same way under any hash seed)."""
    gone = _gone(v)
    who = gone.receiver
    given = ordered_texts(answer, known=gone.texts)
    if not given:
        return Result(False, "list the texts the client gets, in order, such as ['one'].")
    right = _gone_and_back(gone)
    if given == right:
        return Result(
            True, f"{who} gets {', '.join(right)}: nothing waits for a socket id that is gone."
        )
    extra = [t for t in given if t not in right]
    if extra:
        return Result(False, _why(gone, extra[0]))
    missing = [t for t in right if t not in given]
    if missing:
        return Result(
            False,
            f"a message {who} gets is missing: a message sent to the id of a socket that is"
            " connected at that moment reaches it.",
        )
    return Result(False, f"list each text once, in the order {who} gets them.")
