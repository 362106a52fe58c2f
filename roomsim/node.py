"""A node's context: everything a node's objects need, in one place.

The cluster makes one :class:`NodeContext` per server node (a restarted node
gets a new one) and hands it to the node's :class:`~roomsim.server.Server`;
namespaces, sockets, broadcast operators and adapters read the clock, the
trace, the client links, message ids and whether the node is up from it,
and from nothing else.  Nothing below the cluster reaches back into it: what
a node needs from the wiring (its adapter, the namespaces every node
declares) comes as a callable the cluster gave the context.

Examples
--------
>>> import simpy
>>> from roomsim.network import ClientLinks
>>> from roomsim.trace import Trace
>>> env, trace = simpy.Environment(), Trace()
>>> ctx = NodeContext("n1", env, trace, ClientLinks(env, trace), MessageIds())
>>> ctx.new_msg_id(), ctx.new_msg_id("hello"), ctx.new_msg_id(), ctx.up, ctx.loop
('m1', 'hello', 'm2', True, None)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import simpy

from roomsim.network import ClientLinks
from roomsim.trace import Trace

if TYPE_CHECKING:
    from roomsim.adapters.interface import AdapterNamespace
    from roomsim.adapters.memory import InMemoryAdapter

__all__ = ["MessageIds", "NodeContext"]


class MessageIds:
    """Message ids of one run: ``m1``, ``m2``, ... or ids given by name, each used once.

    Shared by every node's context and every client, so that ids are unique
    in the run.  Automatic ids skip every id already used or reserved.

    Examples
    --------
    >>> ids = MessageIds()
    >>> ids.reserve(["m2"])
    >>> ids.new(), ids.new(), ids.new("x")
    ('m1', 'm3', 'x')
    >>> ids.new("x")
    Traceback (most recent call last):
    ...
    ValueError: message id 'x' is already used
    """

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._reserved: set[str] = set()
        self._counter = itertools.count(1)

    def new(self, explicit: str | None = None) -> str:
        """A message id: ``explicit`` if given (it must be new), else the next free one."""
        if explicit is not None:
            if explicit in self._used:
                raise ValueError(f"message id {explicit!r} is already used")
            self._used.add(explicit)
            return explicit
        while True:
            candidate = f"m{next(self._counter)}"
            if candidate not in self._used and candidate not in self._reserved:
                self._used.add(candidate)
                return candidate

    def reserve(self, ids: Iterable[str]) -> None:
        """Keep automatic ids clear of these (ids given by name later)."""
        self._reserved.update(ids)


def _no_adapter(nsp: AdapterNamespace) -> InMemoryAdapter:
    from roomsim.adapters.memory import InMemoryAdapter

    return InMemoryAdapter(nsp)


def _nothing(name: str) -> None:
    return None


class NodeContext:
    """One server node as its objects see it.

    Parameters
    ----------
    name : str
        The node's name (``n1``, ...).
    env : simpy.Environment
        The simulated clock (ms).
    trace : Trace
        Where every record goes.
    links : ClientLinks
        The links between clients and their nodes.
    ids : MessageIds
        Where message ids come from (shared by the whole run).
    make_adapter : callable, optional
        ``make_adapter(namespace)``: the adapter of a new namespace of this
        node (default: an in-memory adapter).
    declare_namespace : callable, optional
        ``declare_namespace(name)``: a namespace is used on this node (the
        cluster declares it on every node).

    Attributes
    ----------
    up : bool
        False once the node has crashed (a restarted node has a new context).
    loop : object or None
        The node's event loop (its cost model); None: an ideal node.
    """

    __slots__ = ("_declare", "_make_adapter", "env", "ids", "links", "loop", "name", "trace", "up")

    def __init__(
        self,
        name: str,
        env: simpy.Environment,
        trace: Trace,
        links: ClientLinks,
        ids: MessageIds,
        make_adapter: Callable[[AdapterNamespace], InMemoryAdapter] | None = None,
        declare_namespace: Callable[[str], None] | None = None,
        loop: Any = None,
    ) -> None:
        self.name = name
        self.env = env
        self.trace = trace
        self.links = links
        self.ids = ids
        self.up = True
        self.loop: Any = loop
        self._make_adapter = make_adapter or _no_adapter
        self._declare = declare_namespace or _nothing

    def __repr__(self) -> str:
        return f"<NodeContext {self.name} {'up' if self.up else 'down'} t={self.env.now}>"

    @property
    def now(self) -> float:
        """The simulated time, in ms."""
        return self.env.now

    def new_msg_id(self, explicit: str | None = None) -> str:
        """A message id, unique in the run (see :class:`MessageIds`)."""
        return self.ids.new(explicit)

    def make_adapter(self, nsp: AdapterNamespace) -> InMemoryAdapter:
        """The adapter of namespace ``nsp`` of this node, as the cluster wires it."""
        return self._make_adapter(nsp)

    def declare_namespace(self, name: str) -> None:
        """Namespace ``name`` is used on this node: every node of the run has it."""
        self._declare(name)
