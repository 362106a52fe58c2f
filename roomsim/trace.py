"""The trace: typed records of what happened in a run, in simulated-time order.

The trace is the single source of truth after a run: every count and every
picture can be recomputed from it.  Every record is a flat mapping with ``t``
(ms) and ``kind`` first, then these keys:

=================  ====================================================
kind               keys (after ``t`` and ``kind``)
=================  ====================================================
``connect``        ``client``, ``node``, ``sid``, ``namespace``
``join``/``leave`` ``client``, ``node``, ``room``
``emit``           ``msg``, ``node``, ``event``, ``from``, ``to``, ``except``
                   (and ``local``/``namespace`` when set)
``publish``        ``msg``, ``node``, ``channel`` (a node hands it to the broker)
``relay``          ``msg``, ``node``, ``channel``, ``targets``; ``echo`` or
                   ``ignored`` when the node threw the copy away
``deliver``        ``msg``, ``client``, ``node``, ``event``
``drop``           ``msg``, ``client`` or ``node``, ``reason``
``disconnecting``  ``client``, ``node``, ``sid``, ``reason``, ``rooms``
``disconnect``     the same; ``rooms`` is empty
``client_emit``    ``msg``, ``client``, ``node``, ``event`` (client to server)
``receive``        ``msg``, ``client``, ``node``, ``event`` (it reached the server)
``error``          ``step``, ``action``, ``message`` (a step that could not be done)
=================  ====================================================

Deliveries are the hot path: a broadcast to many clients is stored as one
compact batch and expanded only when someone reads the records.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from json.encoder import encode_basestring as _quote
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol

from roomsim.outputs import Output, OutputError
from roomsim.vocabulary import CONNECT, DELIVER, DROP, EMIT, ERROR, JOIN, PUBLISH, RELAY

__all__ = [
    "DeliveryBatch",
    "RecordSink",
    "Trace",
    "batch_deliveries",
    "discarded",
    "expand",
    "format_time",
]


class DeliveryBatch(NamedTuple):
    """Consecutive ``deliver`` records of one message, node, event and instant.

    They stand for one record per client, in order: ``{"t": t, "kind":
    "deliver", "msg": msg, "client": client, "node": node, "event": event}``
    (:func:`expand`).
    """

    t: int | float
    msg: str
    node: str
    event: str
    clients: list[str]


#: a JSON string without escapes or control characters (json.loads would refuse those)
_STR = r'"([^"\\\x00-\x1f]*)"'
#: a ``deliver`` line exactly as ``roomsim run --trace`` writes it, JSON numbers' grammar for t
_DELIVER = re.compile(
    r'\{"t":(-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?),"kind":"deliver"'
    rf',"msg":{_STR},"client":{_STR},"node":{_STR},"event":{_STR}\}}[ \t\r\n]*\Z'
)


def batch_deliveries(
    lines: Iterable[str], parse: Callable[[str], dict[str, Any] | None]
) -> Iterator[dict[str, Any] | DeliveryBatch]:
    """The records of trace ``lines``, runs of ``deliver`` records as batches.

    A line of the shape ``roomsim run --trace`` writes a delivery in is read
    by a regular expression; every other line (another kind, a string with
    an escape, a non-finite time, extra spaces) is given to ``parse``, which
    returns its record, None to skip it, or raises.  Expanding the batches
    (:func:`expand`) gives the records ``parse`` would give for every line.
    Each client name is kept once, however many batches name it.

    Examples
    --------
    >>> lines = [
    ...     '{"t":0,"kind":"connect","client":"a","node":"n1","sid":"s1"}',
    ...     '{"t":2.5,"kind":"deliver","msg":"m1","client":"a","node":"n1","event":"e"}',
    ...     '{"t":2.5,"kind":"deliver","msg":"m1","client":"b","node":"n1","event":"e"}',
    ...     '{"t":3,"kind":"deliver","msg":"m1","client":"c","node":"n2","event":"e"}',
    ... ]
    >>> items = list(batch_deliveries(lines, json.loads))
    >>> [type(x).__name__ for x in items]
    ['dict', 'DeliveryBatch', 'DeliveryBatch']
    >>> items[1]
    DeliveryBatch(t=2.5, msg='m1', node='n1', event='e', clients=['a', 'b'])
    >>> list(expand(items)) == [json.loads(line) for line in lines]
    True
    """
    match = _DELIVER.match
    names: dict[str, str] = {}
    name = names.setdefault
    key: tuple[str, str, str, str] | None = None
    t: int | float = 0
    clients: list[str] = []
    for text in lines:
        found = match(text)
        if found is not None:
            number, fraction, exponent, msg, client, node, event = found.groups()
            if (number, msg, node, event) != key:
                if fraction is None and exponent is None:
                    value: int | float = int(number)
                else:
                    value = float(number)
                    if not math.isfinite(value):  # 1e999: the parser says what is wrong
                        found = None
                if found is not None:
                    if clients:
                        yield DeliveryBatch(t, key[1], key[2], key[3], clients)  # type: ignore[index]
                    key, t, clients = (number, msg, node, event), value, []
            if found is not None:
                clients.append(name(client, client))
                continue
        if clients:
            yield DeliveryBatch(t, key[1], key[2], key[3], clients)  # type: ignore[index]
            key, clients = None, []
        rec = parse(text)
        if rec is not None:
            yield rec
    if clients:
        yield DeliveryBatch(t, key[1], key[2], key[3], clients)  # type: ignore[index]


def expand(items: Iterable[dict[str, Any] | DeliveryBatch]) -> Iterator[dict[str, Any]]:
    """The records of ``items``: a batch of deliveries as one record per client."""
    for item in items:
        if item.__class__ is DeliveryBatch:
            t, msg, node, event, clients = item  # type: ignore[misc]
            for client in clients:
                yield {
                    "t": t,
                    "kind": "deliver",
                    "msg": msg,
                    "client": client,
                    "node": node,
                    "event": event,
                }
        else:
            yield item  # type: ignore[misc]


class RecordSink(Protocol):
    """Something fed every record as the run makes it (a checker, a summary).

    A sink with an ``add_deliveries(t, msg, node, event, clients)`` method
    gets a batch of deliveries in one call, as :meth:`Trace.add_deliveries`
    does; else one ``deliver`` record per client.  Likewise a sink with an
    ``add_relays(t, msg, nodes, channel, ignored)`` method gets the copies a
    batch of nodes threw away (:meth:`Trace.relays`) in one call.
    """

    def add(self, record: dict[str, Any]) -> None: ...


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _encode(record: dict[str, Any]) -> str:
    """One record as compact JSON, the same text as ``json`` gives, faster.

    Records are flat; their keys are plain words; their values are mostly
    strings and numbers, which are written directly.
    """
    parts = []
    for key, value in record.items():
        cls = value.__class__
        if cls is str:
            text = _quote(value)
        elif cls is int or cls is float:
            text = repr(value)
        else:
            text = _dumps(value)
        parts.append(f'"{key}":{text}')
    return "{" + ",".join(parts) + "}"


class _QuoteCache(dict):  # type: ignore[type-arg]
    """name -> its JSON string literal, computed once per name."""

    def __missing__(self, name: str) -> str:
        quoted = self[name] = _quote(name)
        return quoted


def format_time(t: float) -> int | float:
    """Return ``t`` as it appears in a trace: an int when whole, else rounded.

    Rounding to nanoseconds hides the last-bit noise of float sums, so that
    ``0.1 + 0.2`` ms is written ``0.3``.

    Examples
    --------
    >>> format_time(25.0), format_time(0.1 + 0.2), format_time(3)
    (25, 0.3, 3)
    """
    if t.__class__ is int:
        return t
    if t.is_integer():  # most instants: no rounding needed
        return int(t)
    t = round(t, 9)
    return int(t) if t.is_integer() else t


class _Deliveries:
    """Many ``deliver`` records of one message, one node and one instant."""

    __slots__ = ("clients", "event", "msg", "node", "t")

    def __init__(self, t: int | float, msg: str, node: str, event: str, clients: list[str]) -> None:
        self.t, self.msg, self.node, self.event, self.clients = (
            t,
            msg,
            node,
            event,
            clients,
        )

    def records(self) -> Iterator[dict[str, Any]]:
        t, msg, node, event = self.t, self.msg, self.node, self.event
        for client in self.clients:
            yield {
                "t": t,
                "kind": DELIVER,
                "msg": msg,
                "client": client,
                "node": node,
                "event": event,
            }


class _Connections:
    """The ``connect`` and ``join`` records of clients connected at one instant."""

    __slots__ = ("connections", "t")

    def __init__(
        self, t: int | float, connections: list[tuple[str, str, str, str, tuple[str, ...]]]
    ) -> None:
        self.t, self.connections = t, connections

    def records(self) -> Iterator[dict[str, Any]]:
        t = self.t
        for client, node, sid, namespace, rooms in self.connections:
            yield {
                "t": t,
                "kind": CONNECT,
                "client": client,
                "node": node,
                "sid": sid,
                "namespace": namespace,
            }
            for room in rooms:
                yield {"t": t, "kind": JOIN, "client": client, "node": node, "room": room}


def discarded(relay: dict[str, Any]) -> bool:
    """Whether a node threw a ``relay`` copy away: its own message, a room it
    lacks, another namespace, or no local recipient.

    Examples
    --------
    >>> discarded({"targets": 0}), discarded({"targets": 2}), discarded({"ignored": "own message"})
    (True, False, True)
    """
    return bool(relay.get("ignored")) or not relay.get("targets")


class Tally:
    """Running counts of a trace, kept even when records are streamed away.

    Attributes
    ----------
    kinds : Counter
        Records per kind (deliveries included).
    deliveries_by_node, drops_by_reason, emits_by_node : Counter
        What a summary prints.
    clients : set
        Names of every client that connected at least once.
    errors : list of dict
        Every ``error`` record (they are few and always worth showing).
    """

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.deliveries_by_node: Counter[str] = Counter()
        self.drops_by_reason: Counter[str] = Counter()
        self.emits_by_node: Counter[str] = Counter()
        self.publishes_by_node: Counter[str] = Counter()
        self.relays_by_node: Counter[str] = Counter()
        self.bytes_by_node: Counter[str] = Counter()
        self.clients: set[str] = set()
        self.clients_by_node: Counter[str] = Counter()
        self.errors: list[dict[str, Any]] = []
        self.end_time: int | float = 0
        #: relayed copies a node threw away (its own, a room it lacks, or no recipient)
        self.discarded_by_node: Counter[str] = Counter()
        #: emit time of every message, and the sum and maximum of delivery latencies
        self.emit_times: dict[str, int | float] = {}
        self.latency_sum: float = 0.0
        self.latency_max: float = 0.0

    def add(self, record: dict[str, Any]) -> None:
        kind = record["kind"]
        self.kinds[kind] += 1
        self.end_time = record["t"]
        if kind == DELIVER:
            self.deliveries_by_node[record["node"]] += 1
            self._latency(record["t"], record["msg"], 1)
        elif kind == DROP:
            self.drops_by_reason[record["reason"]] += 1
        elif kind == EMIT:
            self.emits_by_node[record["node"]] += 1
            self.emit_times[record["msg"]] = record["t"]
        elif kind == CONNECT:
            self.clients.add(record["client"])
            self.clients_by_node[record["node"]] += 1
        elif kind == PUBLISH:
            self.publishes_by_node[record["node"]] += 1
            self.bytes_by_node[record["node"]] += record.get("bytes", 0)
        elif kind == RELAY:
            self.relays_by_node[record["node"]] += 1
            if discarded(record):
                self.discarded_by_node[record["node"]] += 1
        elif kind == ERROR:
            self.errors.append(record)

    def add_deliveries(self, t: int | float, msg: str, node: str, count: int) -> None:
        self.kinds[DELIVER] += count
        self.deliveries_by_node[node] += count
        self.end_time = t
        self._latency(t, msg, count)

    def _latency(self, t: int | float, msg: str, count: int) -> None:
        sent = self.emit_times.get(msg)
        if sent is not None:
            latency = t - sent
            self.latency_sum += latency * count
            if latency > self.latency_max:
                self.latency_max = latency


class Trace:
    """Records of one run, kept in memory, streamed to a JSON Lines file, or both.

    Parameters
    ----------
    path : str or Path, optional
        Stream every record to this JSON Lines file (``-``: standard output),
        or to a Parquet file when its name ends in ``.parquet``
        (:mod:`roomsim.trace_parquet`, the ``parquet`` extra).
        A regular file is written under a temporary name and moved into place
        by :meth:`close`, so a run that fails leaves the previous file as it
        was; a device or FIFO is written through (see :mod:`roomsim.outputs`).
        A path that cannot be written raises :class:`~roomsim.outputs.OutputError`
        here, before the run.
    keep : bool
        Keep the records in memory (default).  With ``keep=False`` only the
        running counts (:attr:`tally`) stay, which is what a very large run
        writing to a file wants.
    sinks : sequence of RecordSink
        Each gets every record (``sink.add(record)``) as it is made, in trace
        order, deliveries one record at a time: the checks and the latency
        figures of a run computed as it goes, in memory that does not grow
        with the trace.

    Examples
    --------
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="abc")
    >>> trace.add_deliveries(5, "m1", "n1", "news", ["alice", "bob"])
    >>> sorted(trace.deliveries())
    [('m1', 'alice'), ('m1', 'bob')]
    >>> [r["kind"] for r in trace]
    ['connect', 'deliver', 'deliver']
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        keep: bool = True,
        sinks: tuple[RecordSink, ...] | list[RecordSink] = (),
    ):
        self._items: list[dict[str, Any] | _Deliveries | _Connections] | None = [] if keep else None
        self._sinks = tuple(sinks)
        batched = [getattr(sink, "add_deliveries", None) for sink in self._sinks]
        self._batch_sinks = tuple(b for b in batched if b is not None)
        self._record_sinks = tuple(
            s for s, b in zip(self._sinks, batched, strict=True) if b is None
        )
        relayed = [getattr(sink, "add_relays", None) for sink in self._sinks]
        self._relay_sinks = tuple(b for b in relayed if b is not None)
        #: a sink that needs every relay as a record
        self._record_relays = any(b is None for b in relayed)
        self.tally = Tally()
        self.path = Path(path) if path is not None else None
        self._out: IO[str] | None = None
        self._quoted = _QuoteCache()
        self._output: Output | None = None
        #: why the file could not be written (the run goes on; :meth:`close` raises it)
        self.error: OutputError | None = None
        self._sink: Any = None
        if self.path is not None:
            if self.path.suffix.lower() == ".parquet":
                from roomsim.trace_parquet import ParquetSink, need_pyarrow

                need_pyarrow()
                self._output = Output(self.path, "trace", binary=True)
                self._sink = ParquetSink(self._output.file)
            else:
                self._output = Output(self.path, "trace")
                self._out = self._output.file

    @property
    def output(self) -> Output | None:
        """The file being written (how: ``stdout``, ``through`` or ``atomic``), if any."""
        return self._output

    # -- writing -----------------------------------------------------------
    def record(self, t: float, kind: str, **fields: Any) -> None:
        """Add one record of ``kind`` at time ``t`` with ``fields`` in order."""
        rec = {"t": format_time(t), "kind": kind, **fields}
        if self._items is not None:
            self._items.append(rec)
        self.tally.add(rec)
        for sink in self._sinks:
            sink.add(rec)
        if self._out is not None:
            try:
                self._out.write(_encode(rec) + "\n")
            except OSError as err:
                self._lost(err)
        elif self._sink is not None:
            try:
                self._sink.add(rec)
            except OSError as err:
                self._lost(err)

    def relay(
        self,
        t: float,
        msg: str | None,
        node: str,
        channel: str,
        targets: int,
        ignored: str | None = None,
    ) -> None:
        """A ``relay`` record: what :meth:`record` makes of ``record(t, "relay",
        msg=msg, node=node, channel=channel, targets=targets[, ignored=ignored])``,
        the same record and line, with less work (one a node a broadcast).

        Examples
        --------
        >>> trace = Trace()
        >>> trace.relay(3, "m1", "n2", "socket.io#/#", 0, "unknown room")
        >>> trace.records("relay"), trace.tally.discarded_by_node["n2"]
        ([{'t': 3, 'kind': 'relay', 'msg': 'm1', 'node': 'n2', 'channel': 'socket.io#/#', \
'targets': 0, 'ignored': 'unknown room'}], 1)
        """
        if msg.__class__ is not str or targets.__class__ is not int:
            extra = {"ignored": ignored} if ignored is not None else {}
            self.record(t, RELAY, msg=msg, node=node, channel=channel, targets=targets, **extra)
            return
        t = format_time(t)
        rec = {"t": t, "kind": RELAY, "msg": msg, "node": node, "channel": channel}
        rec["targets"] = targets
        if ignored is not None:
            rec["ignored"] = ignored
        if self._items is not None:
            self._items.append(rec)
        tally = self.tally
        tally.kinds[RELAY] += 1
        tally.end_time = t
        tally.relays_by_node[node] += 1
        if ignored or not targets:
            tally.discarded_by_node[node] += 1
        for sink in self._sinks:
            sink.add(rec)
        if self._out is not None:
            quoted = self._quoted
            line = (
                f'{{"t":{t!r},"kind":"relay","msg":{_quote(msg)},"node":{quoted[node]},'
                f'"channel":{quoted[channel]},"targets":{targets!r}'
            )
            if ignored is not None:
                line += f',"ignored":{quoted[ignored]}'
            try:
                self._out.write(line + "}\n")
            except OSError as err:
                self._lost(err)
        elif self._sink is not None:
            try:
                self._sink.add(rec)
            except OSError as err:
                self._lost(err)

    def relays(
        self, t: float, msg: str | None, nodes: list[str], channel: str, ignored: str
    ) -> None:
        """One ``relay`` record per node of ``nodes``, in that order, each a copy
        on ``channel`` the node threw away (``targets`` 0, ``ignored``): the
        records and lines :meth:`relay` makes one by one, as one batch.

        Examples
        --------
        >>> trace = Trace()
        >>> trace.relays(3, "m1", ["n2", "n3"], "socket.io#/#r#", "unknown room")
        >>> [(r["node"], r["targets"], r["ignored"]) for r in trace.records("relay")]
        [('n2', 0, 'unknown room'), ('n3', 0, 'unknown room')]
        >>> trace.tally.discarded_by_node["n3"], trace.tally.kinds["relay"]
        (1, 2)
        """
        if msg.__class__ is not str or self._items is not None or self._record_relays:
            for node in nodes:
                self.relay(t, msg, node, channel, 0, ignored)
            return
        t = format_time(t)
        tally = self.tally
        tally.kinds[RELAY] += len(nodes)
        tally.end_time = t
        tally.relays_by_node.update(nodes)
        tally.discarded_by_node.update(nodes)
        for batch in self._relay_sinks:
            batch(t, msg, nodes, channel, ignored)
        if self._out is not None:
            quoted = self._quoted
            head = f'{{"t":{t!r},"kind":"relay","msg":{_quote(msg)},"node":'
            tail = f',"channel":{quoted[channel]},"targets":0,"ignored":{quoted[ignored]}}}\n'
            try:
                self._out.write(head + (tail + head).join(map(quoted.__getitem__, nodes)) + tail)
            except OSError as err:
                self._lost(err)
        elif self._sink is not None:
            try:
                for node in nodes:
                    self._sink.add(
                        {
                            "t": t,
                            "kind": RELAY,
                            "msg": msg,
                            "node": node,
                            "channel": channel,
                            "targets": 0,
                            "ignored": ignored,
                        }
                    )
            except OSError as err:
                self._lost(err)

    def drop(
        self,
        t: float,
        msg: str | None,
        reason: str,
        *,
        client: str | None = None,
        node: str | None = None,
        **extra: Any,
    ) -> None:
        """A ``drop`` record: ``msg`` was lost for ``client`` (or for ``node``) with
        ``reason``, one of :data:`~roomsim.vocabulary.DROP_REASONS`.

        Keys in the format's order: ``msg``, ``client``, ``node`` (those given),
        ``reason``, then ``extra``.

        Examples
        --------
        >>> trace = Trace()
        >>> trace.drop(4, "m1", "loss", client="alice", node="n1")
        >>> trace.records("drop")
        [{'t': 4, 'kind': 'drop', 'msg': 'm1', 'client': 'alice', 'node': 'n1', 'reason': 'loss'}]
        """
        fields: dict[str, Any] = {"msg": msg}
        if client is not None:
            fields["client"] = client
        if node is not None:
            fields["node"] = node
        fields["reason"] = reason
        self.record(t, DROP, **fields, **extra)

    def add_deliveries(self, t: float, msg: str, node: str, event: str, clients: list[str]) -> None:
        """Add one ``deliver`` record per client in ``clients``, in that order."""
        if not clients:
            return
        t = format_time(t)
        if self._items is not None:
            self._items.append(_Deliveries(t, msg, node, event, clients))
        self.tally.add_deliveries(t, msg, node, len(clients))
        for batch in self._batch_sinks:
            batch(t, msg, node, event, clients)
        if self._record_sinks:
            for rec in _Deliveries(t, msg, node, event, clients).records():
                for sink in self._record_sinks:
                    sink.add(rec)
        out = self._out
        if out is not None:
            head = f'{{"t":{t!r},"kind":"deliver","msg":{_quote(msg)},"client":'
            tail = f',"node":{_quote(node)},"event":{_quote(event)}}}\n'
            try:
                out.write(head + (tail + head).join(map(self._quoted.__getitem__, clients)) + tail)
            except OSError as err:
                self._lost(err)
        elif self._sink is not None:
            try:
                self._sink.add_deliveries(t, msg, node, event, clients)
            except OSError as err:
                self._lost(err)

    def add_connections(
        self, t: float, connections: list[tuple[str, str, str, str, tuple[str, ...]]]
    ) -> None:
        """Add, for each ``(client, node, sid, namespace, rooms)``, its ``connect``
        record and a ``join`` record per room, in that order: one batch, the
        records (and file lines) :meth:`record` would make one by one.

        Examples
        --------
        >>> trace = Trace()
        >>> trace.add_connections(
        ...     0, [("a", "n1", "s1", "/", ("r1", "r2")), ("b", "n2", "s2", "/", ())]
        ... )
        >>> [(r["kind"], r["client"], r.get("room")) for r in trace]
        [('connect', 'a', None), ('join', 'a', 'r1'), ('join', 'a', 'r2'), ('connect', 'b', None)]
        >>> dict(trace.tally.kinds), sorted(trace.tally.clients)
        ({'connect': 2, 'join': 2}, ['a', 'b'])
        """
        if not connections:
            return
        t = format_time(t)
        batch = _Connections(t, connections)
        if self._items is not None:
            self._items.append(batch)
        tally = self.tally
        kinds, clients, by_node = tally.kinds, tally.clients.add, tally.clients_by_node
        joins = 0
        for client, node, _sid, _namespace, rooms in connections:
            clients(client)
            by_node[node] += 1
            joins += len(rooms)
        kinds[CONNECT] += len(connections)
        if joins:
            kinds[JOIN] += joins
        tally.end_time = t
        if self._sinks:
            for rec in batch.records():
                for sink in self._sinks:
                    sink.add(rec)
        if self._out is not None:
            quoted = self._quoted.__getitem__
            head = f'{{"t":{t!r},"kind":'
            write = self._out.write
            lines: list[str] = []
            add = lines.append
            try:
                for client, node, sid, namespace, rooms in connections:
                    who = f'"client":{_quote(client)},"node":{quoted(node)}'
                    add(
                        f'{head}"connect",{who},"sid":{_quote(sid)},'
                        f'"namespace":{quoted(namespace)}}}\n'
                    )
                    for room in rooms:
                        add(f'{head}"join",{who},"room":{quoted(room)}}}\n')
                    if len(lines) >= 4096:  # a few hundred kB at a time
                        write("".join(lines))
                        lines.clear()
                write("".join(lines))
            except OSError as err:
                self._lost(err)
        elif self._sink is not None:
            try:
                for rec in batch.records():
                    self._sink.add(rec)
            except OSError as err:
                self._lost(err)

    def _lost(self, err: OSError) -> None:
        """The file cannot take more (a full disk): drop it, keep counting, say so at close."""
        assert self._output is not None
        self.error = self._output.failure(err)
        self._out = self._sink = None

    def close(self) -> None:
        """Finish the trace file (if any): put it in place.  Idempotent.

        Raises :class:`~roomsim.outputs.OutputError` when the file could not
        be written; the records and the :attr:`tally` are still complete.
        """
        if self._out is not None or self._sink is not None:
            sink, self._out, self._sink = self._sink, None, None
            try:
                if sink is not None:
                    try:
                        sink.close()
                    except OSError as err:
                        raise self._output.failure(err) from None  # type: ignore[union-attr]
                self._output.commit()  # type: ignore[union-attr]
            except OutputError as err:
                self.error = err
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        """Forget the trace file (if any) without writing it (a previous file stays)."""
        if self._output is not None:
            self._out = self._sink = None
            self._output.discard()

    # -- reading -----------------------------------------------------------
    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._items is None:
            raise ValueError("this trace was streamed to a file; read it with Trace.read_jsonl")
        for item in self._items:
            if item.__class__ is _Deliveries or item.__class__ is _Connections:
                yield from item.records()  # type: ignore[union-attr]
            else:
                yield item  # type: ignore[misc]

    def __len__(self) -> int:
        return sum(self.tally.kinds.values())

    def records(self, kind: str | None = None, **match: Any) -> list[dict[str, Any]]:
        """Records of one ``kind`` (all when None) whose keys equal ``match``.

        Examples
        --------
        >>> trace = Trace()
        >>> trace.record(1, "join", client="alice", node="n1", room="a")
        >>> trace.record(2, "join", client="bob", node="n1", room="a")
        >>> [r["client"] for r in trace.records("join", room="a")]
        ['alice', 'bob']
        """
        return [
            r
            for r in self
            if (kind is None or r["kind"] == kind) and all(r.get(k) == v for k, v in match.items())
        ]

    def deliveries(self) -> set[tuple[str, str]]:
        """The set of ``(msg, client)`` pairs that were delivered: who got what."""
        pairs: set[tuple[str, str]] = set()
        for item in self._items or ():
            if item.__class__ is _Deliveries:
                msg = item.msg  # type: ignore[union-attr]
                pairs.update((msg, c) for c in item.clients)  # type: ignore[union-attr]
            elif item.__class__ is dict and item["kind"] == DELIVER:  # type: ignore[index]
                pairs.add((item["msg"], item["client"]))  # type: ignore[index]
        return pairs

    def received_by(self, client: str) -> list[str]:
        """Message ids ``client`` received, in arrival order."""
        return [r["msg"] for r in self.records(DELIVER, client=client)]

    def recipients(self, msg: str) -> list[str]:
        """Clients that received ``msg``, in arrival order."""
        return [r["client"] for r in self.records(DELIVER, msg=msg)]

    def to_dataframe(self) -> Any:
        """The records as a pandas DataFrame (needs pandas), one row a record."""
        import pandas as pd

        return pd.DataFrame.from_records(list(self))

    # -- files -------------------------------------------------------------
    def write_jsonl(self, path: str | os.PathLike[str]) -> None:
        """Write the records to a JSON Lines file (one JSON object a line), whole or not at all."""
        with Output(path, "trace") as out:
            write = out.file.write
            for rec in self:
                write(_encode(rec) + "\n")

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any] | tuple[Any, ...]]) -> Trace:
        """A trace in memory holding ``records`` (as read from a file), in order.

        An item that is a tuple ``(t, msg, node, event, clients)`` (a
        :class:`~roomsim.analysis.jsonl.DeliveryBatch`) stands for one
        ``deliver`` record per client, kept as one batch.

        Examples
        --------
        >>> trace = Trace.from_records([{"t": 0, "kind": "connect", "client": "a",
        ...                              "node": "n1", "sid": "s1"},
        ...                             (2, "m1", "n1", "news", ["a", "b"])])
        >>> len(trace), sorted(trace.tally.clients), trace.recipients("m1")
        (3, ['a'], ['a', 'b'])
        """
        trace = cls()
        items, add, tally = trace._items, trace.tally.add, trace.tally
        assert items is not None
        for rec in records:
            if isinstance(rec, tuple):
                t, msg, node, event, clients = rec
                if clients:
                    items.append(_Deliveries(t, msg, node, event, clients))
                    tally.add_deliveries(t, msg, node, len(clients))
                continue
            items.append(rec)
            add(rec)
        return trace

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Trace:
        """Load a saved trace: Parquet when the name ends in ``.parquet``, else JSON Lines.

        A Parquet file that is not a trace raises ValueError (one line).
        """
        if not os.fspath(path).lower().endswith(".parquet"):
            return cls.read_jsonl(path)
        from roomsim.trace_parquet import parquet_records

        return cls.from_records(parquet_records(path, batched=True))

    @classmethod
    def read_jsonl(cls, path: str | os.PathLike[str]) -> Trace:
        """Load a trace written by ``roomsim run --trace`` or :meth:`write_jsonl`."""

        def parse(line: str) -> dict[str, Any] | None:
            return json.loads(line) if line.strip() else None

        with open(path, encoding="utf-8") as lines:
            return cls.from_records(batch_deliveries(lines, parse))
