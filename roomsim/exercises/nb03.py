"""Exercises of notebook 03: broadcasting from a socket.

03.1 takes a function, the student's ``connection`` handler: the check
installs it in its own cluster, lets clients chat, and compares what each
client received with what the rooms say it should.  03.2 asks who gets each
of five emits made from one socket; the check plays them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from roomsim.cluster import Cluster
from roomsim.exercises import Result, Variant, exercise
from roomsim.exercises.answers import AnswerError, describe, function, keyed, names
from roomsim.exercises.bounds import run_bounded
from roomsim.exercises.variants import variant as _variant
from roomsim.server import Server

# -- 03.1: a chat relay ---------------------------------------------------------------

#: Rooms of the clients of exercise 03.1 (joined as they connect).
CHAT_MEMBERS: dict[str, list[str]] = {
    "alice": ["lobby"],
    "bob": ["lobby"],
    "carol": ["lobby", "kitchen"],
    "dave": ["kitchen"],
}

#: What the clients send, in order: (sender, room, text), 10 ms apart.  carol, in
#: two rooms, names one of them: a handler that sends to all the sender's rooms (or
#: ignores the room) fails on her chat.
CHATS: tuple[tuple[str, str, str], ...] = (
    ("alice", "lobby", "hi"),
    ("dave", "kitchen", "tea?"),
    ("carol", "kitchen", "milk?"),
)


def _chats(v: Variant) -> tuple[tuple[str, str, str], ...]:
    return tuple((v.name(s), v.room(r), t) for s, r, t in CHATS)


def _chat_members(v: Variant) -> dict[str, list[str]]:
    return {v.name(n): [v.room(r) for r in rooms] for n, rooms in CHAT_MEMBERS.items()}


def _run_chat(
    on_connection: Callable[[Any], Any], v: Variant | None = None
) -> tuple[dict[str, list[tuple]], Cluster]:
    """Install ``on_connection`` on one node, play the chats, return what each
    client's ``chat`` listener got (its arguments, in order) and the cluster.

    The run is bounded: a handler that never finishes raises NeverFinished."""
    v = v or _variant()
    sim = Cluster(nodes=1, client_ms=5)
    sim.on("connection", on_connection)
    got: dict[str, list[tuple]] = {}
    for name, rooms in _chat_members(v).items():
        client = sim.connect(name, node="n1", rooms=rooms)
        got[name] = []
        client.on("chat", lambda *args, name=name: got[name].append(args))

    def chats(env: Any) -> Any:
        for sender, room, text in _chats(v):
            yield env.timeout(10)
            sim.client(sender).emit("chat", room, text)

    sim.process(chats)
    run_bounded(sim)
    return got, sim


def _expected_chat(v: Variant) -> dict[str, list[tuple]]:
    """What each client should get: every chat of a room it is in, but its own."""
    members = _chat_members(v)
    return {
        name: [(text,) for sender, room, text in _chats(v) if room in rooms and name != sender]
        for name, rooms in members.items()
    }


def _scenario_03_1(v: Variant) -> str:
    members = _chat_members(v)
    who = "; ".join(f"{n} is in {', '.join(map(repr, rooms))}" for n, rooms in members.items())
    said = ", then ".join(f"{s} sends ({r!r}, {t!r})" for s, r, t in _chats(v))
    return f"On one node: {who}. Every 10 ms, {said}."


def _chat_hint(got: dict[str, list[tuple]], sim: Cluster, v: Variant) -> str:
    expected = _expected_chat(v)
    others = [r for r in sim.trace.records("deliver") if r["event"] != "chat"]
    if others:
        r = others[0]
        return f"{r['client']} got a {r['event']!r} event: relay it as 'chat'."
    texts: dict[Any, tuple[str | None, str | None]] = {
        text: (sender, room) for sender, room, text in _chats(v)
    }
    for name, args in got.items():
        for arg in args:
            text = arg[-1] if arg else None
            sender, room = texts.get(text, (None, None))
            if name == sender:
                return (
                    f"{name}'s own {text!r} came back to {name}. Start from the socket,"
                    " socket.to(room): it leaves the sender out; socket.nsp.to(room) does not."
                )
            if sender is not None and (text,) not in expected[name]:
                return (
                    f"{name} is not in {room!r} but got {text!r}: send to the room the"
                    " client names, socket.to(room), not to everybody nor to all the"
                    " sender's rooms."
                )
            if arg != (text,):
                return f"{name} got chat with {arg!r}: send the text alone, emit('chat', text)."
    for name, want in expected.items():
        if len(got[name]) > len(want):
            return f"{name} got {got[name]!r}: each chat should arrive once."
        if got[name] != want:
            chat = next(
                (c for c in _chats(v) if (c[2],) in want and (c[2],) not in got[name]), None
            )
            if chat is None:
                return f"{name} got {got[name]!r}; expected {want!r}."
            sender, room, text = chat
            return (
                f"{name} is in {room!r} but did not get {sender}'s {text!r}: in a"
                " socket.on('chat', ...) handler, send each chat on to the room it names."
            )
    return "compare what each client got with the rooms it is in."


@exercise(
    "03.1",
    "A chat relay that does not echo",
    answer="a function on_connection(socket)",
    rule=(
        "on each 'chat' (room, text), send 'chat' with the text alone to the members of the"
        " room the client named, leaving the sender out: socket.to(room)."
    ),
    takes_variant=True,
    scenario=_scenario_03_1,
)
def chat_relay(answer: Any, v: Variant) -> Result:
    """The answer is a function ``on_connection(socket)``."""
    handler = function(answer, "def on_connection(socket): ...")
    got, sim = _run_chat(handler, v)
    delivered = sim.trace.records("deliver")
    if got == _expected_chat(v) and all(r["event"] == "chat" for r in delivered):
        return Result(
            True, "every member of the room got the text once, and the sender got nothing back."
        )
    return Result(False, _chat_hint(got, sim, v))


# -- 03.2: five emits from bob's socket ---------------------------------------------------

#: Rooms of the clients of exercise 03.2.
MEMBERS: dict[str, list[str]] = {
    "alice": ["lobby"],
    "bob": ["lobby", "quiet"],
    "carol": ["quiet"],
    "dave": [],
}

#: The five emits, as the notebook writes them, and how to play each.
EMITS: dict[str, Callable[[Server, Any], str]] = {
    'bob.socket.emit("x")': lambda io, bob: bob.socket.emit("x"),
    'io.emit("x")': lambda io, bob: io.emit("x"),
    'bob.socket.broadcast.emit("x")': lambda io, bob: bob.socket.broadcast.emit("x"),
    'bob.socket.to("lobby").emit("x")': lambda io, bob: bob.socket.to("lobby").emit("x"),
    'bob.socket.except_("quiet").emit("x")': lambda io, bob: bob.socket.except_("quiet").emit("x"),
}

RULES = {
    'bob.socket.emit("x")': "socket.emit talks to that socket's own client, and no one else",
    'io.emit("x")': "io.emit reaches every socket of the namespace",
    'bob.socket.broadcast.emit("x")': "socket.broadcast is everyone but the sender",
    'bob.socket.to("lobby").emit("x")': (
        "socket.to(room) is the members of the room, minus the sender even if he is a member"
    ),
    'bob.socket.except_("quiet").emit("x")': (
        "socket.except_(room) is everyone, minus the members of the room, minus the sender"
    ),
}


def _key(text: str) -> str:
    return str(text).replace("'", '"').replace(" ", "")


def _five_emits() -> dict[str, set[str]]:
    """Play each emit of :data:`EMITS` from bob's socket; who got each."""
    sim = Cluster(nodes=1, client_ms=5)
    for name, rooms in MEMBERS.items():
        sim.connect(name, node="n1", rooms=rooms)
    io, bob = sim.io("n1"), sim.client("bob")
    msgs = {key: play(io, bob) for key, play in EMITS.items()}
    sim.run()
    return {key: set(sim.trace.recipients(msg)) for key, msg in msgs.items()}


@exercise(
    "03.2",
    "Who gets each emit made from bob's socket?",
    answer="a dict: each emit, as written in the notebook -> a set of client names",
    rule=(
        "socket.emit answers the sender alone; io.emit is everyone; socket.broadcast,"
        " socket.to(room) and socket.except_(room) always leave the sender out."
    ),
)
def from_a_socket(answer: Any) -> Result:
    """The answer is a dict: each emit of :data:`EMITS` -> the set of names that get it."""
    if not isinstance(answer, dict):
        raise AnswerError(
            f"give a dict: each emit (as written in the notebook) -> a set of names,"
            f" not {describe(answer)}"
        )
    by_key = {_key(k): k for k in EMITS}
    given = keyed(
        {_key(k): val for k, val in answer.items()}, list(by_key), "{'io.emit(\"x\")': {...}, ...}"
    )
    parsed = {
        by_key[k]: names(val, known=MEMBERS, what=f"for {by_key[k]}") for k, val in given.items()
    }
    if not any(parsed.values()):
        return Result(False, "fill in a set of names for each emit.")
    right = _five_emits()
    wrong = []
    for key, who in right.items():
        said = parsed[key]
        if said != who:
            detail = []
            if said - who:
                detail.append(f"{', '.join(sorted(said - who))} should not be there")
            if who - said:
                detail.append("someone is missing")
            wrong.append(f"{key}: {' and '.join(detail)} ({RULES[key]})")
    if not wrong:
        listed = "; ".join(f"{key} -> {', '.join(sorted(who))}" for key, who in right.items())
        return Result(True, f"{listed}.")
    return Result(False, f"{len(wrong)} of 5 not right yet. First: {wrong[0]}.")
