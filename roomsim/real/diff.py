"""Comparing two traces of one scenario: the simulation's and the real Socket.IO's.

What is compared is what Socket.IO decides, not when: who received which
message, the steps that could not be done, acknowledgement, fetch and
server-side results, which nodes received a server-side emit, each
client's connections (node, recovered) and disconnections (reason, and the
rooms ``disconnecting`` and ``disconnect`` saw).  Socket ids differ
between runs, so every socket id is replaced by its client's name (``<bob>``
for bob's own room).  A ``drop`` in one trace and nothing in the other are
the same outcome (the message did not arrive); a drop's reason is shown
when the other trace delivered the message.

One outcome is a race on the real thing, and either is accepted: a
broadcast emitted while the broker is down is queued by node-redis and
published when the node reconnects, so whether another node's client gets
it depends on which nodes re-subscribed first.  Such pairs are listed in
``races`` (when given) instead of the differences.

Examples
--------
>>> a = [{"t": 0, "kind": "connect", "client": "bob", "node": "n1", "sid": "s1"},
...      {"t": 5, "kind": "deliver", "msg": "m1", "client": "bob", "node": "n1", "event": "x"}]
>>> b = [{"t": 0, "kind": "connect", "client": "bob", "node": "n1", "sid": "zz"},
...      {"t": 9, "kind": "drop", "msg": "m1", "client": "bob", "reason": "not subscribed"}]
>>> diff_traces(a, a)
[]
>>> print(format_diff(diff_traces(a, b, names=("sim", "real"))))
deliveries: m1 -> bob: sim delivered it, real did not (drop: not subscribed)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outcome", "diff_traces", "format_diff", "outcome"]


@dataclass
class Outcome:
    """What a trace says Socket.IO decided, with socket ids replaced by names."""

    deliveries: Counter[tuple[str, str]] = field(default_factory=Counter)
    drops: dict[tuple[str, str], str] = field(default_factory=dict)
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    results: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    side: Counter[tuple[str, str]] = field(default_factory=Counter)
    sessions: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    #: the node each message was emitted on, and where each delivery was made
    emitted_on: dict[str, str] = field(default_factory=dict)
    delivered_via: dict[tuple[str, str], str] = field(default_factory=dict)
    #: messages emitted while the broker was down (not ``local``)
    while_down: set[str] = field(default_factory=set)


def outcome(records: Iterable[dict[str, Any]]) -> Outcome:
    """Reduce a trace's records to what :func:`diff_traces` compares."""
    out = Outcome()
    names: dict[str, str] = {}
    msgs: dict[str, None] = {}
    records = list(records)
    for r in records:
        if r["kind"] == "connect":
            names[r["sid"]] = r["client"]

    def room(name: str) -> str:
        return f"<{names[name]}>" if name in names else name

    broker_down = False
    for r in records:
        kind = r["kind"]
        if kind == "deliver":
            out.deliveries[r["msg"], r["client"]] += 1
            out.delivered_via.setdefault((r["msg"], r["client"]), r.get("node", ""))
            msgs.setdefault(r["msg"])
        elif kind == "broker":
            broker_down = r.get("state") == "down"
        elif kind == "drop" and "client" in r:
            out.drops.setdefault((r["msg"], r["client"]), r["reason"])
        elif kind == "emit":
            msgs.setdefault(r["msg"])
            out.emitted_on[r["msg"]] = r.get("node", "")
            if broker_down and not r.get("local"):
                out.while_down.add(r["msg"])
        elif kind == "error":
            out.errors[r["step"], r.get("action", "")] += 1
        elif kind == "ack_result":
            key = f"ack_result {r['msg']}" if "msg" in r else f"ack_result {r['step']}"
            result = (r.get("node"), r.get("error"), tuple(sorted(map(str, r["responses"]))))
            out.results.setdefault(key, []).append(result)
        elif kind == "fetch_result":
            result = (r.get("node"), r.get("error"), tuple(sorted(r["sockets"])))
            out.results.setdefault(f"fetch_result {r['step']}", []).append(result)
        elif kind == "server_side_receive":
            out.side[r["node"], r["event"]] += 1
        elif kind == "connect":
            entry: tuple[Any, ...] = ("connect", r["node"], bool(r.get("recovered")))
            out.sessions.setdefault(r["client"], []).append(entry)
        elif kind in ("disconnecting", "disconnect"):
            rooms = tuple(sorted(room(x) for x in r.get("rooms", ())))
            entry = (kind, r["reason"], rooms)
            out.sessions.setdefault(r["client"], []).append(entry)
    out.order = list(msgs)
    return out


def _rank(order: list[str]) -> dict[str, int]:
    return {m: i for i, m in enumerate(order)}


def diff_traces(
    a: Iterable[dict[str, Any]],
    b: Iterable[dict[str, Any]],
    *,
    names: tuple[str, str] = ("A", "B"),
    races: list[str] | None = None,
) -> list[str]:
    """The differences between traces ``a`` and ``b``, one readable line each.

    Differences that are races on the real thing (see the module's text) go
    to ``races`` when it is given, else they are differences too.
    """
    x, y = outcome(a), outcome(b)
    na, nb = names
    lines: list[str] = []
    rank = _rank(x.order + [m for m in y.order if m not in x.order])

    pairs = sorted(
        set(x.deliveries) | set(y.deliveries),
        key=lambda p: (rank.get(p[0], len(rank)), p[0], p[1]),
    )
    for pair in pairs:
        ca, cb = x.deliveries[pair], y.deliveries[pair]
        if ca == cb:
            continue
        msg, client = pair
        if races is not None and _racy(pair, x, y):
            races.append(
                f"deliveries: {msg} -> {client}: {na} {ca}, {nb} {cb} (emitted while"
                " the broker was down: a race)"
            )
            continue
        if ca and not cb:
            why = f" (drop: {y.drops[pair]})" if pair in y.drops else ""
            lines.append(f"deliveries: {msg} -> {client}: {na} delivered it, {nb} did not{why}")
        elif cb and not ca:
            why = f" (drop: {x.drops[pair]})" if pair in x.drops else ""
            lines.append(f"deliveries: {msg} -> {client}: {nb} delivered it, {na} did not{why}")
        else:
            lines.append(f"deliveries: {msg} -> {client}: {na} {ca} times, {nb} {cb} times")

    for key in sorted(set(x.errors) | set(y.errors)):
        if x.errors[key] != y.errors[key]:
            step, action = key
            lines.append(f"errors: {step} ({action}): {na} {x.errors[key]}, {nb} {y.errors[key]}")

    for result in sorted(set(x.results) | set(y.results)):
        ra = sorted(x.results.get(result, []), key=repr)
        rb = sorted(y.results.get(result, []), key=repr)
        if ra != rb:
            lines.append(f"{result}: {na} {_results(ra)}, {nb} {_results(rb)}")

    for key in sorted(set(x.side) | set(y.side)):
        if x.side[key] != y.side[key]:
            node, event = key
            lines.append(
                f"server_side_receive {event!r} on {node}: {na} {x.side[key]}, {nb} {y.side[key]}"
            )

    for client in sorted(set(x.sessions) | set(y.sessions)):
        sa, sb = x.sessions.get(client, []), y.sessions.get(client, [])
        if sa != sb:
            lines.append(f"sessions of {client}: {na} {_sessions(sa)}; {nb} {_sessions(sb)}")
    return lines


def _racy(pair: tuple[str, str], x: Outcome, y: Outcome) -> bool:
    """Whether a delivery to another node's client of a message emitted while
    the broker was down: then who got it is a race."""
    msg = pair[0]
    if msg not in x.while_down | y.while_down:
        return False
    origin = x.emitted_on.get(msg) or y.emitted_on.get(msg)
    via = x.delivered_via.get(pair) or y.delivered_via.get(pair)
    return via is not None and via != origin


def _results(results: list[tuple[Any, ...]]) -> str:
    if not results:
        return "none"
    parts = []
    for node, error, items in results:
        head = f"on {node}: " if node else ""
        parts.append(f"{head}{'ok' if error is None else repr(error)} [{', '.join(items)}]")
    return "; ".join(parts)


def _sessions(entries: list[tuple[Any, ...]]) -> str:
    if not entries:
        return "none"
    parts = []
    for entry in entries:
        if entry[0] == "connect":
            parts.append(f"connect {entry[1]}{' (recovered)' if entry[2] else ''}")
        else:
            parts.append(f"{entry[0]} {entry[1]!r} {{{', '.join(entry[2])}}}")
    return ", ".join(parts)


def format_diff(lines: list[str], limit: int = 200) -> str:
    """The lines of :func:`diff_traces` as one text (at most ``limit`` lines)."""
    shown = lines[:limit]
    if len(lines) > limit:
        shown.append(f"... and {len(lines) - limit} more")
    return "\n".join(shown)
