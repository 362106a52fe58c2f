"""The ``load:`` key: a steady load, expanded to emit steps.

Each load entry becomes explicit ``emit`` steps appended to the timeline, so
a scenario with a load plays exactly as the same file with those steps
written out.  Arrival times, senders and rooms come from the stream
``load:<id>`` of the scenario's seed: the same file gives the same steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from roomsim.ids import rng
from roomsim.scenario.errors import invalid, show, unknown_name
from roomsim.scenario.models import EmitStep, LoadSpec, Step

if TYPE_CHECKING:
    from roomsim.scenario.document import Scenario

__all__ = ["expand_load"]


def _senders(
    load: LoadSpec, where: tuple[Any, ...], nodes: list[str], clients: set[str], sc: Scenario
) -> list[tuple[str, bool]]:
    """``(name, is_client)`` of each possible sender."""
    if not load.from_:
        return [(node, False) for node in nodes]
    groups = {g.prefix: g for g in sc.groups}
    out: list[tuple[str, bool]] = []
    for j, name in enumerate(load.from_):
        if name in nodes:
            out.append((name, False))
        elif name in clients:
            out.append((name, True))
        elif name in groups:
            out.extend((c, True) for c in groups[name].names())
        else:
            known = [*nodes, *sorted(clients)[:20], *groups]
            raise invalid(unknown_name("node, client or group", name, known), (*where, "from", j))
    return out


def _times(load: LoadSpec, rand: Any) -> list[float]:
    """The emit times: every ``1000 / rate`` ms, or a Poisson process of that rate."""
    gap = 1000.0 / load.rate
    end = load.start + load.duration
    times: list[float] = []
    if load.arrivals == "constant":
        k = 0
        while (t := load.start + k * gap) < end:
            times.append(round(t, 9))
            k += 1
        return times
    t = load.start + rand.expovariate(1.0 / gap)
    while t < end:
        times.append(round(t, 9))
        t += rand.expovariate(1.0 / gap)
    return times


def expand_load(sc: Scenario, ids: set[str]) -> list[Step]:
    """The emit steps of every ``load`` entry of ``sc``, in time order per entry.

    ``ids`` holds the message ids already used; the load's own are added.

    Examples
    --------
    >>> from roomsim.scenario import scenario_from_dict
    >>> sc = scenario_from_dict({"cluster": {"nodes": 2},
    ...     "load": [{"rate": 100, "duration": 30, "room": "lobby", "bytes": 3}]})
    >>> [(s.at, s.emit.id, s.emit.from_, s.emit.to, s.emit.data) for s in sc.timeline]
    ... # doctest: +NORMALIZE_WHITESPACE
    [(0.0, 'load1-1', 'n1', ['lobby'], 'xxx'), (10.0, 'load1-2', 'n2', ['lobby'], 'xxx'),
     (20.0, 'load1-3', 'n1', ['lobby'], 'xxx')]
    """
    seed = sc.seed if sc.seed is not None else 0
    nodes = list(sc.cluster.nodes)
    clients = {c.name for c in sc.clients}
    rooms_by_group = {g.prefix: g.rooms for g in sc.groups if g.rooms is not None}
    steps: list[Step] = []
    for i, load in enumerate(sc.load):
        where = ("load", i)
        load_id = load.id or f"load{i + 1}"
        if load.room is not None and (load.room in clients or load.room in nodes):
            reason = f"{show(load.room)} is a client's or node's name, not a room"
            raise invalid(reason, (*where, "room"))
        rule = None
        if load.rooms_of is not None:
            rule = rooms_by_group.get(load.rooms_of)
            if rule is None:
                known = list(rooms_by_group)
                raise invalid(
                    unknown_name("group with rooms", load.rooms_of, known), (*where, "rooms_of")
                )
        senders = _senders(load, where, nodes, clients, sc)
        rand = rng(seed, f"load:{load_id}")
        data = "x" * load.bytes if load.bytes else None
        for k, at in enumerate(_times(load, rand), 1):
            msg = f"{load_id}-{k}"
            if msg in ids:
                raise invalid(f"message id {show(msg)} is used twice", (*where, "id"))
            ids.add(msg)
            sender, is_client = (
                senders[(k - 1) % len(senders)]
                if load.arrivals == "constant"
                else senders[int(rand.random() * len(senders))]
            )
            if rule is not None:
                to: list[str] | None = [f"{rule.prefix}{1 + int(rand.random() * rule.count)}"]
            else:
                to = [load.room] if load.room is not None else None
            emit = EmitStep.model_construct(
                id=msg,
                event=load.event,
                data=data,
                broadcast=is_client and to is None,
                volatile=False,
                ack=False,
                timeout=None,
                from_=sender,
                to=to,
                except_=[],
                local=False,
                namespace=None,
            )
            emit._sender_is_client = is_client
            steps.append(Step.model_construct(at=at, index=0, emit=emit))
    return steps
