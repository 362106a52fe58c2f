"""Client groups: many clients declared at once, by a rule.

A group ``{prefix: user, count: 3}`` stands for the clients ``user1``,
``user2`` and ``user3``, spread over nodes by ``assign`` and put in rooms by
the ``rooms`` rule.  :meth:`ClientGroup.expand` makes the clients; it does
not validate them one by one (their parts were validated once, in the
group), so 100,000 clients take a fraction of a second.

Random choices come from streams named after the group
(``group:<prefix>:nodes``, ``group:<prefix>:rooms``), so one group never
shifts another's, and the same file always gives the same memberships.
"""

import random
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, Strict, model_validator

from roomsim.ids import rng
from roomsim.scenario.errors import Expect, Problems, invalid, show, unknown_name
from roomsim.scenario.models import ClientSpec, GroupClient, Part
from roomsim.scenario.values import Ms, Name, Namespace, Seed, SomeNames

__all__ = [
    "MAX_CLIENTS",
    "MAX_GROUP_CLIENTS",
    "MAX_GROUP_ROOMS",
    "MAX_MEMBERSHIPS",
    "ClientGroup",
    "GroupRooms",
    "check_group_rooms",
    "check_groups",
]

MAX_GROUP_CLIENTS = 1_000_000
MAX_GROUP_ROOMS = 1_000_000_000
#: clients of a scenario in all, declared one by one or by groups
MAX_CLIENTS = 2_000_000
#: rooms the clients of all groups join, in all (each group's count times its per_client)
MAX_MEMBERSHIPS = 10_000_000


def _per_client(value: Any) -> Any:
    """``k`` stands for ``[k, k]``; a pair of whole numbers >= 0 is kept as a tuple."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in value)
    ):
        return tuple(value)
    raise ValueError("not a number of rooms")


GroupCount = Annotated[
    int,
    Strict(),
    Field(ge=1, le=MAX_GROUP_CLIENTS),
    Expect(f"a whole number from 1 to {MAX_GROUP_CLIENTS}"),
]
RoomCount = Annotated[
    int,
    Strict(),
    Field(ge=1, le=MAX_GROUP_ROOMS),
    Expect(f"a whole number from 1 to {MAX_GROUP_ROOMS}"),
]
GroupNodes = Annotated[SomeNames | None, Expect("a node name or a non-empty list of node names")]
PerClient = Annotated[
    tuple[int, int],
    BeforeValidator(_per_client),
    Expect("a whole number >= 0, or a list [lo, hi] of two"),
]


class GroupRooms(Part):
    """The rooms of a group, ``<prefix>1`` to ``<prefix><count>``, and who joins which.

    Each client joins k distinct rooms, k uniform in ``per_client``
    (``(lo, hi)``, both included).  ``pick`` says which: ``random`` (k rooms
    uniformly, from the group's seeded stream; joined in increasing number)
    or ``block`` (client i joins room ``(i - 1) // ceil(clients / count) + 1``
    and the next k - 1 rooms, cyclically).
    """

    prefix: Name
    count: RoomCount
    per_client: PerClient = (1, 1)
    pick: Annotated[Literal["random", "block"], Expect("'random' or 'block'")] = "random"

    @model_validator(mode="after")
    def _per_client_fits(self) -> "GroupRooms":
        lo, hi = self.per_client
        if lo > hi:
            reason = f"expected [lo, hi] with lo <= hi, got [{show(lo)}, {show(hi)}]"
            raise invalid(reason, ("per_client",))
        if hi > self.count:
            reason = (
                f"expected at most {self.count} rooms per client (the rooms' count), got {show(hi)}"
            )
            raise invalid(reason, ("per_client",))
        return self

    def has_room(self, name: str) -> bool:
        """Whether ``name`` is one of the rooms, without making their names."""
        return _numbered(name, self.prefix, self.count)

    def memberships(self, clients: int, rand: random.Random) -> list[list[str]]:
        """The rooms of each of ``clients`` clients, in index order.

        Parameters
        ----------
        clients : int
            How many clients the group has.
        rand : random.Random
            The group's rooms stream (drawn from only when a choice is random).

        Returns
        -------
        list of list of str

        Examples
        --------
        >>> rule = GroupRooms(prefix="r", count=3, per_client=2, pick="block")
        >>> rule.memberships(6, random.Random(0))
        [['r1', 'r2'], ['r1', 'r2'], ['r2', 'r3'], ['r2', 'r3'], ['r3', 'r1'], ['r3', 'r1']]
        """
        lo, hi = self.per_client
        count, draw = self.count, rand.random
        if lo == hi:
            sizes = [lo] * clients
        else:
            sizes = [lo + int(draw() * (hi - lo + 1)) for _ in range(clients)]
        names = _Numbered(self.prefix)
        if self.pick == "block":
            per_room = -(-clients // count)  # ceil(clients / count)
            starts = range(-(-clients // per_room))  # the rooms clients start from
            runs = [[names[(first + t) % count + 1] for t in range(hi)] for first in starts]
            return [runs[i // per_room][:k] for i, k in enumerate(sizes)]
        return [
            [names[int(draw() * count) + 1]]
            if k == 1
            else [names[j + 1] for j in sorted(_distinct(rand, count, k))]
            for k in sizes
        ]


class ClientGroup(Part):
    """Many clients at once: ``<prefix>1`` to ``<prefix><count>``.

    Client i goes to a node of ``nodes`` (default: every node of the
    cluster) by ``assign``: ``round-robin`` (``nodes[(i - 1) % len(nodes)]``),
    ``block`` (contiguous chunks in the order of ``nodes``: each node gets
    ``count // len(nodes)`` clients, the first ``count % len(nodes)`` nodes one
    more) or ``random`` (uniform, from the group's seeded stream).  Every
    client connects at ``connect_at`` to ``namespace`` and joins the rooms the
    ``rooms`` rule gives it.
    """

    prefix: Name
    count: GroupCount
    nodes: GroupNodes = None
    assign: Annotated[
        Literal["round-robin", "block", "random"], Expect("'round-robin', 'block' or 'random'")
    ] = "round-robin"
    connect_at: Ms = 0.0
    namespace: Namespace = "/"
    rooms: GroupRooms | None = None
    seed: Seed = None

    def names(self) -> list[str]:
        """The clients' names, in index order.

        Examples
        --------
        >>> ClientGroup(prefix="user", count=3).names()
        ['user1', 'user2', 'user3']
        """
        prefix = self.prefix
        return [f"{prefix}{i}" for i in range(1, self.count + 1)]

    def has_client(self, name: str) -> bool:
        """Whether ``name`` is one of the group's clients, without making their names."""
        return _numbered(name, self.prefix, self.count)

    def expand(self, cluster_nodes: Sequence[str], seed: int) -> list[GroupClient]:
        """The group's clients, in index order.

        Parameters
        ----------
        cluster_nodes : sequence of str
            The cluster's nodes, used when the group names none.
        seed : int
            The scenario's seed, used when the group gives none.

        Returns
        -------
        list of GroupClient
            Each reads as a :class:`ClientSpec`; the group's fields are shared.

        Examples
        --------
        >>> group = ClientGroup(prefix="u", count=3, rooms={"prefix": "r", "count": 2})
        >>> [(c.name, c.node) for c in group.expand(["n1", "n2"], seed=0)]
        [('u1', 'n1'), ('u2', 'n2'), ('u3', 'n1')]
        """
        if self.seed is not None:
            seed = self.seed
        pool = self.nodes or list(cluster_nodes)
        nodes = _spread(pool, self.count, self.assign, seed, self.prefix)
        if self.rooms is None:
            rooms: list[list[str]] = [[] for _ in range(self.count)]
        else:
            rooms = self.rooms.memberships(self.count, rng(seed, f"group:{self.prefix}:rooms"))
        template = ClientSpec.model_construct(
            name="", node="", rooms=[], connect_at=self.connect_at, namespace=self.namespace
        )
        # each client: its own name, node and rooms; the group's other fields are
        # shared, never copied (nothing sets a client's fields afterwards)
        make = GroupClient.of(template)
        return list(map(make, self.names(), nodes, rooms))


def check_groups(
    groups: Sequence[ClientGroup],
    nodes: set[str],
    clients: dict[str, str],
    declared: Sequence[ClientSpec],
    report: Problems | None = None,
) -> None:
    """Check the groups' nodes and names, and add their clients to ``clients``.

    Parameters
    ----------
    groups : sequence of ClientGroup
        The scenario's groups, in file order.
    nodes : set of str
        The cluster's nodes.
    clients : dict
        The namespace of every client so far, by name (the declared clients);
        each group's clients are added to it.
    declared : sequence of ClientSpec
        The declared clients, to say where a name was declared first.
    report : Problems, optional
        Where to note each problem (default: raise the first).
    """
    report = report or Problems(collect=False)
    _check_sizes(groups, len(declared))
    for i, group in enumerate(groups):
        seen: set[str] = set()
        for j, node in enumerate(group.nodes or ()):
            if node in seen:
                report.add(("groups", i, "nodes", j), f"duplicate node {show(node)}")
            elif node not in nodes:
                report.add(("groups", i, "nodes", j), unknown_name("node", node, nodes))
            seen.add(node)
        names = group.names()
        if not (clients.keys().isdisjoint(names) and nodes.isdisjoint(names)):
            name = next(n for n in names if n in clients or n in nodes)
            report.add(("groups", i, "prefix"), _clash(name, nodes, groups[:i], declared))
        clients.update(dict.fromkeys(names, group.namespace))


def _check_sizes(groups: Sequence[ClientGroup], declared: int) -> None:
    """Refuse groups that would make more clients, or memberships, than fit in memory."""
    clients, joined = declared, 0
    for i, group in enumerate(groups):
        clients += group.count
        if clients > MAX_CLIENTS:
            reason = (
                f"the clients come to {clients:,} with this group;"
                f" a scenario may have at most {MAX_CLIENTS:,} clients in all"
            )
            raise invalid(reason, ("groups", i, "count"))
        if group.rooms is not None:
            joined += group.count * group.rooms.per_client[1]
            if joined > MAX_MEMBERSHIPS:
                reason = (
                    f"the groups' clients would join up to {joined:,} rooms in all with this"
                    f" group (count x per_client); at most {MAX_MEMBERSHIPS:,} fit"
                )
                raise invalid(reason, ("groups", i, "rooms", "per_client"))


def _clash(
    name: str, nodes: set[str], before: Sequence[ClientGroup], declared: Sequence[ClientSpec]
) -> str:
    """Why a group may not have a client named ``name``."""
    if name in nodes:
        return f"client {show(name)} has a node's name; a client may not have the same name"
    where = [f"clients[{k}]" for k, client in enumerate(declared) if client.name == name]
    where += [f"groups[{k}]" for k, group in enumerate(before) if group.has_client(name)]
    return f"client {show(name)} is declared twice ({where[0]} and this group)"


def check_group_rooms(
    groups: Sequence[ClientGroup], clients: Mapping[str, str], report: Problems | None = None
) -> None:
    """Check that no room of a group has a client's name (declared or of a group).

    Of several clashes, the one of the first group is said, with its first
    client in ``clients``' order.  Each client's name is looked at once,
    whatever the number of groups: a room is a prefix followed by a number,
    so only the few ways of cutting a name's final digits can be a room.
    """
    rules: dict[str, list[tuple[int, GroupRooms]]] = {}
    for i, group in enumerate(groups):
        if group.rooms is not None:
            rules.setdefault(group.rooms.prefix, []).append((i, group.rooms))
    if not rules:
        return
    clash: tuple[int, str] | None = None
    if len(rules) <= 8:  # a few prefixes: the C-level startswith test is faster
        for i, group in enumerate(groups):
            rule = group.rooms
            if rule is not None:
                name = next((n for n in clients if rule.has_room(n)), None)
                if name is not None:
                    clash = (i, name)
                    break
    else:
        clash = _first_clash(rules, clients)
    if clash is not None:
        i, name = clash
        reason = f"room {show(name)} of this group is a client's name"
        where = ("groups", i, "rooms", "prefix")
        (report or Problems(collect=False)).add(
            where, f"{reason}; a room may not have the same name"
        )


def _first_clash(
    rules: Mapping[str, list[tuple[int, GroupRooms]]], clients: Mapping[str, str]
) -> tuple[int, str] | None:
    """The first group whose rooms hold a client's name, and its first such client."""
    best: tuple[int, str] | None = None
    longest = max(len(str(rule.count)) for found in rules.values() for _, rule in found)
    first = min(i for found in rules.values() for i, _ in found)
    for name in clients:
        digits = len(name) - len(name.rstrip("0123456789"))
        for cut in range(1, min(digits, longest) + 1):
            if name[-cut] == "0":  # a room's number has no leading zero
                continue
            for i, rule in rules.get(name[:-cut], ()):
                if (best is None or i < best[0]) and rule.has_room(name):
                    best = (i, name)
        if best is not None and best[0] == first:
            break
    return best


class _Numbered(dict[int, str]):
    """``prefix`` followed by a number, made once for each number asked for."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def __missing__(self, number: int) -> str:
        name = self[number] = f"{self.prefix}{number}"
        return name


def _numbered(name: str, prefix: str, count: int) -> bool:
    """Whether ``name`` is ``prefix`` followed by a number from 1 to ``count``."""
    digits = name[len(prefix) :]
    return (
        name.startswith(prefix)
        and digits.isascii()
        and digits.isdigit()
        and digits[0] != "0"
        and len(digits) <= len(str(count))
        and int(digits) <= count
    )


def _spread(pool: list[str], count: int, assign: str, seed: int, prefix: str) -> list[str]:
    """The node of each of ``count`` clients, in index order."""
    width = len(pool)
    if assign == "round-robin":
        return (pool * (count // width + 1))[:count]
    if assign == "block":  # each node count // width clients, the first count % width one more
        size, more = divmod(count, width)
        nodes: list[str] = []
        for k, node in enumerate(pool):
            nodes += [node] * (size + (k < more))
        return nodes
    return rng(seed, f"group:{prefix}:nodes").choices(pool, k=count)


def _distinct(rand: random.Random, count: int, k: int) -> list[int] | set[int]:
    """``k`` distinct numbers drawn uniformly from ``range(count)``."""
    if 2 * k > count:
        return rand.sample(range(count), k)
    draw = rand.random
    picked: set[int] = set()
    while len(picked) < k:
        picked.add(int(draw() * count))
    return picked
