"""Exercises of notebook 09: failures (a node crash, a broker outage) and what they lose."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Generator
from typing import Any

from roomsim.cluster import Cluster
from roomsim.exercises import Result, Variant, exercise
from roomsim.exercises.answers import keyed, names, whole_number
from roomsim.exercises.variants import NAME_POOL
from roomsim.trace import Trace


def _names(items: set[str]) -> str:
    return ", ".join(sorted(items)) or "nobody"


# -- 09.1 ---------------------------------------------------------------------------

#: client -> node; every one joins "ops" when it first connects
CRASH_CLIENTS = {"ann": "n1", "eve": "n1", "ben": "n2", "dan": "n2", "cat": "n3"}
#: the timeline of 09.1 (client_ms=5, adapter_ms=4)
M1_AT, CRASH_AT, LATER_AT = 10, 13, 5000
MESSAGES = ("m1", "m2", "m3")


def _run_crash() -> Trace:
    """n3 sends m1 to ops at t=10; n2 crashes at t=13; at t=5000 n3 sends m2 to ops
    and m3 to everyone."""
    sim = Cluster(nodes=3, adapter="redis", client_ms=5, adapter_ms=4)
    for name, node in CRASH_CLIENTS.items():
        sim.connect(name, node=node, rooms=["ops"])

    def timeline(env: Any) -> Generator[Any, Any, None]:
        yield env.timeout(M1_AT)
        sim.io("n3").to("ops").emit("status", msg_id="m1")
        yield env.timeout(CRASH_AT - env.now)
        sim.crash("n2")
        yield env.timeout(LATER_AT - env.now)
        sim.io("n3").to("ops").emit("status", msg_id="m2")
        sim.io("n3").emit("status", msg_id="m3")

    sim.process(timeline)
    sim.run(until=LATER_AT + 100)
    return sim.trace


#: The rule behind each message of 09.1, for a hint that names nobody missing.
CRASH_RULES = {
    "m1": (
        "a node that crashes loses what it had picked and not yet delivered; the nodes"
        " that stayed up deliver as usual"
    ),
    "m2": (
        "a client that lost its socket in the crash comes back as a new socket, in no room"
        " but its own, unless something joins it again"
    ),
    "m3": "io.emit() reaches every socket of the namespace, new ones included",
}


def _crash_hint(trace: Trace, msg: str, name: str, missing: bool) -> str:
    if missing:
        return f"{msg}: someone who gets it is missing. {CRASH_RULES[msg].capitalize()}."
    node = CRASH_CLIENTS[name]
    verdict = f"{msg}: not {name}"
    if msg == "m1":
        if node == "n2":
            came = trace.records("drop", msg="m1", node="n2")[0]["t"]
            return (
                f"{verdict}. {name} is on n2, which crashed at t={CRASH_AT}, before the"
                f" broker's copy reached it (t={came:g}): a dead node picks nobody (node"
                " down). Had n2 written the packet before dying, it would still have arrived."
            )
        return f"{verdict}. {name} is on {node}, which stayed up: the crash of n2 changes nothing."
    back = [r for r in trace.records("connect", client=name) if r["t"] > 0]
    if msg == "m2":
        if back:
            return (
                f"{verdict}. {name} lost the socket at t={CRASH_AT} and came back at"
                f" t={back[0]['t']:g} on {back[0]['node']}: a new socket, in no room but its"
                " own. Nothing joins 'ops' again here."
            )
        return f"{verdict}. {name} never lost the socket: it is still in 'ops'."
    return f"{verdict}. io.emit() reaches every socket of the namespace, new ones included."


@exercise(
    "09.1",
    "Who gets each message when node n2 crashes?",
    answer='a dict {"m1": set of names, "m2": set of names, "m3": set of names}',
    rule=(
        "a crashed node loses what was on its wire; its clients come back as new sockets in"
        " no room; only io.emit() reaches them until something joins them again."
    ),
)
def who_gets_it_after_the_crash(answer: Any) -> Result:
    """The answer is ``{"m1": set, "m2": set, "m3": set}`` of client names."""
    given = keyed(answer, list(MESSAGES), '{"m1": {...}, "m2": {...}, "m3": {...}}')
    parsed = {msg: names(given[msg], known=CRASH_CLIENTS, what=msg) for msg in MESSAGES}
    if not any(parsed.values()):
        return Result(False, "fill in the three sets: every message reaches somebody.")
    trace = _run_crash()
    for msg in MESSAGES:
        expected = set(trace.recipients(msg))
        got = parsed[msg]
        if got != expected:
            extra = sorted(got - expected)
            if extra:
                return Result(False, _crash_hint(trace, msg, extra[0], False))
            return Result(False, _crash_hint(trace, msg, "", True))
    return Result(
        True,
        "m1 never reached ben and dan (their node died before the broker's copy came);"
        " m2 missed them too: they came back as new sockets in no room; m3, to everyone,"
        " found them wherever they had reconnected.",
    )


# -- 09.2 ---------------------------------------------------------------------------

#: client -> (node, rooms)
OUTAGE_CLIENTS = {
    "ann": ("n1", ["ops"]),
    "amy": ("n1", ["ops", "dev"]),
    "ben": ("n2", ["ops", "dev"]),
    "cat": ("n3", ["ops"]),
    "cal": ("n3", ["ops"]),
}
DOWN_AT, UP_AT = 10, 20
#: the base names a variant renames the five clients from, in OUTAGE_CLIENTS' order
_OUTAGE_BASES = ("alice", "bob", "carol", "dave", "erin")


@functools.lru_cache(maxsize=256)
def _outage_setup(v: Variant) -> tuple[dict[str, tuple[str, list[str]]], str, str]:
    """A variant's clients (name -> (node, rooms)) and its two rooms (ops, dev).

    A student's variant renames the clients and rooms and draws who is in
    which room (each node keeps its clients), adds 0 to 4 clients on nodes of its
    choosing, until the pairs lost differ
    from the notebook's: the notebook's answer is wrong for every student.
    """
    if v.is_default:
        return OUTAGE_CLIENTS, "ops", "dev"
    ops, dev = v.room("lobby"), v.room("kitchen")
    draw = v.draw("09.2")
    crowded = draw.uniform(0.3, 0.9)  # how likely a client is in each room
    default = len(_lost(_run_outage(Variant(""))))
    while True:
        clients = {}
        for base, (node, _) in zip(_OUTAGE_BASES, OUTAGE_CLIENTS.values(), strict=True):
            rooms = [room for room in (ops, dev) if draw.random() < crowded]
            clients[v.name(base)] = (node, rooms)
        spare = [n for n in NAME_POOL if n not in clients]
        for name in draw.sample(spare, draw.randrange(0, 5)):  # 0 to 4 more clients
            rooms = [room for room in (ops, dev) if draw.random() < crowded]
            clients[name] = (draw.choice(("n1", "n2", "n3")), rooms)
        if len(_lost(_run_outage(v, clients, ops, dev))) != default:
            return clients, ops, dev


def _scenario_09_2(v: Variant) -> str:
    clients, ops, dev = _outage_setup(v)
    who = "; ".join(
        f"{name} ({node}, {' and '.join(map(repr, rooms)) or 'no room'})"
        for name, (node, rooms) in clients.items()
    )
    return (
        f"Three nodes, classic Redis adapter, client_ms=5, adapter_ms=2: {who}. At t=9.5 n1"
        f" sends to {ops!r}, at t=9.8 n2 sends to {dev!r}; the broker is down from"
        f" t={DOWN_AT} to t={UP_AT}; at t=16 n3 sends io.local.emit(...), and at t=30 n1"
        " sends to everyone. How many (message, client) pairs are lost?"
    )


def _run_outage(
    v: Variant | None = None,
    clients: dict[str, tuple[str, list[str]]] | None = None,
    ops: str = "ops",
    dev: str = "dev",
) -> Trace:
    if clients is None:
        clients, ops, dev = _outage_setup(v or Variant(""))
    sim = Cluster(nodes=3, adapter="redis", client_ms=5, adapter_ms=2)
    for name, (node, rooms) in clients.items():
        sim.connect(name, node=node, rooms=rooms)

    def timeline(env: Any) -> Generator[Any, Any, None]:
        yield env.timeout(9.5)
        sim.io("n1").to(ops).emit("status", msg_id="ops")
        yield env.timeout(0.3)  # t = 9.8
        sim.io("n2").to(dev).emit("build", msg_id="dev")
        yield env.timeout(DOWN_AT - env.now)
        sim.broker_down()  # both are still on their way to Redis (one hop: 1 ms)
        yield env.timeout(6)  # t = 16
        sim.io("n3").local.emit("hello", msg_id="local")
        yield env.timeout(UP_AT - env.now)
        sim.broker_up()
        yield env.timeout(10)  # t = 30
        sim.io("n1").emit("status", msg_id="all")

    sim.process(timeline)
    sim.run(until=200)
    return sim.trace


def _lost(trace: Trace) -> list[dict[str, Any]]:
    """The (message, client) pairs the outage dropped."""
    return [r for r in trace.records("drop", reason="broker down") if "client" in r]


@exercise(
    "09.2",
    "How many (message, client) pairs does the broker outage lose?",
    answer="a whole number",
    rule=(
        "while the broker is down, the emitting node still writes to its own members; what"
        " had to cross the broker is lost, one pair per member on another node; io.local"
        " never crosses it."
    ),
    takes_variant=True,
    scenario=_scenario_09_2,
)
def pairs_lost_to_the_outage(answer: Any, v: Variant) -> Result:
    """The answer is a number: the pairs dropped with reason 'broker down'."""
    answer = whole_number(answer)
    lost = _lost(_run_outage(v))
    expected = len(lost)
    per_msg = Counter(r["msg"] for r in lost)
    if answer == expected:
        detail = ", ".join(f"{n} of '{m}'" for m, n in per_msg.items()) or "none"
        return Result(
            True,
            f"{expected} ({detail}): each emitting node still wrote to its own sockets;"
            " only what was on its way to the broker when it stopped was lost, and"
            " io.local never crosses it.  (What a node publishes while Redis is down"
            " waits in its client's queue and goes out when it reconnects.)",
        )
    if answer > expected:
        return Result(
            False,
            "too many. Local delivery goes on while the broker is down: the node that"
            " emits writes to its own members at once. And io.local never uses the broker.",
        )
    return Result(
        False,
        "too few. Count, for each message on its way to the broker when it stopped, the"
        " members of its rooms on the *other* nodes: each of them is a lost pair.",
    )
