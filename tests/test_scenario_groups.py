"""Client groups: many clients declared at once by a rule.

Each test states a rule of scenario-format.md ("Client groups") and checks
the expanded clients against that rule written out plainly, or checks the
one-line error (file, line, key) a bad group gives."""

# ruff: noqa: E501  (messages read best whole)

from __future__ import annotations

import itertools
import json
import math
from collections import Counter

import pytest

from roomsim.runner import run_scenario
from roomsim.scenario import (
    ClientGroup,
    ClientSpec,
    GroupRooms,
    Scenario,
    ScenarioError,
    parse_scenario,
    scenario_from_dict,
)
from roomsim.scenario.models import AnyClient

# A small valid file; the error tests change one thing in it. Its lines:
BASE = """\
seed: 5
cluster:
  nodes: [n1, n2, n3]
clients:
  - {name: alice, node: n1}
  - {name: bob, node: n2, rooms: [lobby]}
groups:
  - prefix: user
    count: 10
    nodes: [n1, n2]
    rooms: {prefix: room, count: 4, per_client: [1, 2]}
  - prefix: bot
    count: 3
    assign: block
timeline:
  - {at: 10, emit: {from: user7, to: room1, event: hi}}
"""


def problem(text: str, path: str = "s.yaml") -> str:
    """The one-line error the loader gives for ``text``."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def changed(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def group_clients(
    group: dict, nodes: int | list[str] = 4, seed: int | None = None
) -> list[AnyClient]:
    """The clients of a scenario made of ``group`` alone."""
    data = {"cluster": {"nodes": nodes}, "groups": [group]}
    if seed is not None:
        data["seed"] = seed
    return list(scenario_from_dict(data).all_clients())


# --- names, nodes, rooms ----------------------------------------------------------


def test_names_are_prefix_and_index() -> None:
    """The clients of a group are <prefix>1 .. <prefix><count>, in index order."""
    clients = group_clients({"prefix": "user", "count": 12})
    assert [c.name for c in clients] == [f"user{i}" for i in range(1, 13)]
    assert all(c.rooms == [] and c.connect_at == 0 and c.namespace == "/" for c in clients)


def test_round_robin_is_the_default() -> None:
    """round-robin (the default): client i goes to nodes[(i - 1) % len(nodes)]."""
    nodes = ["a", "b", "c"]
    clients = group_clients({"prefix": "u", "count": 11}, nodes=nodes)
    assert [c.node for c in clients] == [nodes[(i - 1) % 3] for i in range(1, 12)]
    assert [c.node for c in group_clients({"prefix": "u", "count": 5, "nodes": ["n3", "n1"]})] == [
        "n3",
        "n1",
        "n3",
        "n1",
        "n3",
    ]


@pytest.mark.parametrize(("count", "width"), [(10, 3), (12, 4), (7, 2), (2, 4), (100, 7), (1, 1)])
def test_block_gives_contiguous_equal_chunks_in_order(count: int, width: int) -> None:
    """block: contiguous chunks in the order of `nodes`; each node count // len(nodes)
    clients, the first count % len(nodes) nodes one more."""
    nodes = [f"n{k}" for k in range(1, width + 1)]
    clients = group_clients({"prefix": "u", "count": count, "assign": "block"}, nodes=nodes)
    size, more = divmod(count, width)
    expected: list[str] = []
    for k, node in enumerate(nodes):
        expected += [node] * (size + 1 if k < more else size)
    assert [c.node for c in clients] == expected
    # the same rule, said otherwise: in order, and no chunk bigger than another by 2
    assert [c.node for c in clients] == sorted((c.node for c in clients), key=nodes.index)
    sizes = Counter(c.node for c in clients)
    assert max(sizes.values()) - min(sizes.values()) <= 1


def test_block_ten_on_three() -> None:
    """block: 10 clients on 3 nodes are user1-4, user5-7, user8-10 (the documented example)."""
    clients = group_clients({"prefix": "user", "count": 10, "assign": "block"}, nodes=3)
    assert [c.node for c in clients] == ["n1"] * 4 + ["n2"] * 3 + ["n3"] * 3


def test_random_nodes_are_uniform_and_seeded() -> None:
    """random: each client's node is drawn uniformly from `nodes`; the same file gives the same nodes."""
    group = {"prefix": "u", "count": 30_000, "assign": "random", "nodes": ["n1", "n2", "n3"]}
    clients = group_clients(group)
    tally = Counter(c.node for c in clients)
    assert set(tally) == {"n1", "n2", "n3"}
    assert all(abs(n - 10_000) < 500 for n in tally.values()), tally
    assert [c.node for c in group_clients(group)] == [c.node for c in clients]
    # not round robin in disguise: neighbours are often on the same node
    assert sum(a.node == b.node for a, b in itertools.pairwise(clients)) > 5_000


def test_rooms_random_k_distinct_rooms_uniformly() -> None:
    """pick random: each client joins k distinct rooms of room1..room<count>, k uniform
    in [lo, hi], every room as likely; joined in increasing number."""
    rooms = {"prefix": "room", "count": 10, "per_client": [1, 3]}
    clients = group_clients({"prefix": "u", "count": 30_000, "rooms": rooms})
    allowed = {f"room{j}" for j in range(1, 11)}
    for c in clients:
        assert 1 <= len(c.rooms) <= 3
        assert len(set(c.rooms)) == len(c.rooms) and set(c.rooms) <= allowed
        assert c.rooms == sorted(c.rooms, key=lambda room: int(room.removeprefix("room")))
    sizes = Counter(len(c.rooms) for c in clients)
    assert all(abs(n - 10_000) < 500 for n in sizes.values()), sizes
    memberships = Counter(room for c in clients for room in c.rooms)
    mean = sum(memberships.values()) / 10
    assert all(abs(n - mean) < 0.05 * mean for n in memberships.values()), memberships


def test_rooms_per_client_default_and_exact() -> None:
    """per_client defaults to 1; a single number k means exactly k rooms each."""
    one = group_clients({"prefix": "u", "count": 50, "rooms": {"prefix": "r", "count": 5}})
    assert all(len(c.rooms) == 1 for c in one)
    three = group_clients(
        {"prefix": "u", "count": 50, "rooms": {"prefix": "r", "count": 5, "per_client": 3}}
    )
    assert all(len(set(c.rooms)) == 3 for c in three)
    every = group_clients(
        {"prefix": "u", "count": 5, "rooms": {"prefix": "r", "count": 4, "per_client": 4}}
    )
    assert all(c.rooms == ["r1", "r2", "r3", "r4"] for c in every)
    none = group_clients(
        {"prefix": "u", "count": 5, "rooms": {"prefix": "r", "count": 4, "per_client": 0}}
    )
    assert all(c.rooms == [] for c in none)


@pytest.mark.parametrize(
    ("count", "rooms", "k"), [(10, 4, 1), (10, 4, 2), (12, 3, 3), (3, 10, 2), (100, 7, 1)]
)
def test_rooms_block_fills_rooms_in_order(count: int, rooms: int, k: int) -> None:
    """pick block: client i joins room ((i - 1) // ceil(count / rooms count)) + 1, then the
    next k - 1 rooms cyclically."""
    rule = {"prefix": "room", "count": rooms, "per_client": k, "pick": "block"}
    clients = group_clients({"prefix": "u", "count": count, "rooms": rule})
    per_room = math.ceil(count / rooms)
    for i, c in enumerate(clients, start=1):
        first = (i - 1) // per_room
        assert c.rooms == [f"room{(first + t) % rooms + 1}" for t in range(k)]


def test_rooms_block_example() -> None:
    """pick block, 10 clients, 4 rooms, 2 each: rooms of 3 clients, then the next room (room4, room1)."""
    rule = {"prefix": "r", "count": 4, "per_client": 2, "pick": "block"}
    clients = group_clients({"prefix": "u", "count": 10, "rooms": rule})
    assert [c.rooms for c in clients] == [["r1", "r2"]] * 3 + [["r2", "r3"]] * 3 + [
        ["r3", "r4"]
    ] * 3 + [["r4", "r1"]]


def test_rooms_block_with_a_range_of_k() -> None:
    """pick block with per_client [lo, hi]: k varies, the rooms start at the client's block room."""
    rule = {"prefix": "r", "count": 5, "per_client": [1, 3], "pick": "block"}
    clients = group_clients({"prefix": "u", "count": 1000, "rooms": rule})
    per_room = math.ceil(1000 / 5)
    for i, c in enumerate(clients, start=1):
        first = (i - 1) // per_room
        assert 1 <= len(c.rooms) <= 3
        assert c.rooms == [f"r{(first + t) % 5 + 1}" for t in range(len(c.rooms))]
    assert {len(c.rooms) for c in clients} == {1, 2, 3}


def test_group_connect_at_and_namespace() -> None:
    """connect_at and namespace apply to every client of the group."""
    clients = group_clients({"prefix": "u", "count": 3, "connect_at": 25, "namespace": "/chat"})
    assert [(c.connect_at, c.namespace) for c in clients] == [(25.0, "/chat")] * 3


# --- seeds -----------------------------------------------------------------------


RANDOM_GROUP = {
    "prefix": "user",
    "count": 200,
    "assign": "random",
    "rooms": {"prefix": "room", "count": 50, "per_client": [1, 3]},
}


def memberships(clients: list[AnyClient]) -> list[tuple[str, str, list[str]]]:
    return [(c.name, c.node, c.rooms) for c in clients]


def test_the_same_file_gives_the_same_memberships() -> None:
    """Reading the same file twice gives the same nodes and rooms."""
    first = memberships(list(parse_scenario(BASE, "s.yaml").all_clients()))
    again = memberships(list(parse_scenario(BASE, "s.yaml").all_clients()))
    assert first == again


def test_a_different_group_seed_gives_different_memberships() -> None:
    """The group's seed drives its random choices: another seed, other nodes and rooms."""
    one = group_clients({**RANDOM_GROUP, "seed": 1})
    two = group_clients({**RANDOM_GROUP, "seed": 2})
    assert [c.node for c in one] != [c.node for c in two]
    assert [c.rooms for c in one] != [c.rooms for c in two]


def test_the_group_seed_defaults_to_the_scenario_seed_then_0() -> None:
    """Without a seed, a group uses the scenario's seed, and 0 when there is none."""
    assert memberships(group_clients(RANDOM_GROUP, seed=7)) == memberships(
        group_clients({**RANDOM_GROUP, "seed": 7})
    )
    assert memberships(group_clients(RANDOM_GROUP)) == memberships(
        group_clients({**RANDOM_GROUP, "seed": 0})
    )
    assert memberships(group_clients(RANDOM_GROUP, seed=7)) != memberships(
        group_clients(RANDOM_GROUP, seed=8)
    )


def test_groups_never_disturb_each_other() -> None:
    """Each group draws from its own streams: adding a group before it changes nothing."""
    alone = group_clients(RANDOM_GROUP)
    data = {
        "cluster": {"nodes": 4},
        "groups": [{**RANDOM_GROUP, "prefix": "other", "count": 77}, RANDOM_GROUP],
    }
    together = list(scenario_from_dict(data).all_clients())
    assert memberships(together[77:]) == memberships(alone)


def test_the_run_seed_does_not_change_memberships() -> None:
    """`roomsim run --seed` (run_scenario's seed) leaves memberships as the file says."""
    sc = scenario_from_dict({"cluster": {"nodes": 4}, "groups": [RANDOM_GROUP]})

    def joins(seed: int) -> list[tuple[str, str, str]]:
        trace = run_scenario(sc, seed=seed).trace
        return [(r["client"], r["node"], r["room"]) for r in trace.records("join")]

    assert joins(1) == joins(2)
    assert sorted(joins(1)) == sorted(
        (c.name, c.node, room) for c in sc.all_clients() for room in c.rooms
    )


# --- the scenario ---------------------------------------------------------------


def test_all_clients_declared_then_groups_in_file_order() -> None:
    """all_clients: the declared clients, then each group's in file order; computed once."""
    sc = parse_scenario(BASE, "s.yaml")
    names = [c.name for c in sc.all_clients()]
    assert names == ["alice", "bob"] + [f"user{i}" for i in range(1, 11)] + ["bot1", "bot2", "bot3"]
    assert sc.client_count == len(names) == 15
    assert sc.all_clients() is sc.all_clients()
    assert [c.name for c in sc.clients] == ["alice", "bob"]  # declared clients unchanged


def test_json_file_with_groups_means_the_same() -> None:
    """A JSON file with groups gives the same scenario and the same clients as the YAML."""
    sc = parse_scenario(BASE, "s.yaml")
    data = sc.model_dump(
        by_alias=True, exclude_none=True, exclude={"timeline": {"__all__": {"index"}}}
    )
    again = parse_scenario(json.dumps(data, indent=2), "s.json")
    assert again == sc
    assert memberships(list(again.all_clients())) == memberships(list(sc.all_clients()))
    assert isinstance(sc.groups[0], ClientGroup) and isinstance(sc.groups[0].rooms, GroupRooms)
    assert sc.groups[0].rooms.per_client == (1, 2) and sc.groups[1].rooms is None


def test_group_clients_connect_after_declared_ones() -> None:
    """Connection order: by connect_at; at equal times clients, then groups in file order,
    each group in index order."""
    sc = scenario_from_dict(
        {
            "cluster": {"nodes": 2},
            "clients": [
                {"name": "late", "node": "n1", "connect_at": 5},
                {"name": "a", "node": "n2"},
            ],
            "groups": [
                {"prefix": "g", "count": 3},
                {"prefix": "h", "count": 2, "connect_at": 5},
                {"prefix": "e", "count": 2},
            ],
        }
    )
    trace = run_scenario(sc).trace
    order = [(r["t"], r["client"]) for r in trace.records("connect")]
    assert order == [
        (0, "a"),
        (0, "g1"),
        (0, "g2"),
        (0, "g3"),
        (0, "e1"),
        (0, "e2"),
        (5, "late"),
        (5, "h1"),
        (5, "h2"),
    ]


def test_a_step_naming_a_group_client_runs() -> None:
    """Timeline steps name group clients as any client; the run does what they say."""
    text = BASE + (
        "  - {at: 20, join: {client: bot2, rooms: room1}}\n"
        "  - {at: 30, emit: {from: n3, to: room1, event: news}}\n"
        "  - {at: 40, disconnect: {client: user7}}\n"
        "  - {at: 50, emit: {from: bot3, to: [user7, bot2], event: dm}}\n"
    )
    sc = parse_scenario(text, "s.yaml")
    trace = run_scenario(sc).trace
    in_room1 = sorted(c.name for c in sc.all_clients() if "room1" in c.rooms)
    hi = trace.records("emit", msg="m1")[0]
    assert (hi["from"], hi["node"]) == ("user7", sc.all_clients()[2 + 6].node)
    assert sorted(trace.recipients("m1")) == sorted(set(in_room1) - {"user7"})
    assert sorted(trace.recipients("m2")) == sorted({*in_room1, "bot2"})
    assert [r["client"] for r in trace.records("disconnect")] == ["user7"]
    assert trace.recipients("m3") == ["bot2"]  # user7 is gone
    assert trace.records("error") == []


# --- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "{name: bob,",
            "{name: user3,",
            "s.yaml:8: groups[0].prefix: client 'user3' is declared twice (clients[1] and this group)",
        ),
        (
            "prefix: bot",
            "prefix: user",
            "s.yaml:12: groups[1].prefix: client 'user1' is declared twice (groups[0] and this group)",
        ),
        (
            "prefix: bot",
            "prefix: n",
            "s.yaml:12: groups[1].prefix: client 'n1' has a node's name; a client may not have the same name",
        ),
        ("[n1, n2]\n", "[n1, n9]\n", "s.yaml:10: groups[0].nodes[1]: unknown node 'n9'"),
        ("[n1, n2]\n", "[n2, n2]\n", "s.yaml:10: groups[0].nodes[1]: duplicate node 'n2'"),
        (
            "per_client: [1, 2]",
            "per_client: [1, 5]",
            "s.yaml:11: groups[0].rooms.per_client: expected at most 4 rooms per client (the rooms' count), got 5",
        ),
        (
            "per_client: [1, 2]",
            "per_client: 5",
            "s.yaml:11: groups[0].rooms.per_client: expected at most 4 rooms per client (the rooms' count), got 5",
        ),
        (
            "per_client: [1, 2]",
            "per_client: [2, 1]",
            "s.yaml:11: groups[0].rooms.per_client: expected [lo, hi] with lo <= hi, got [2, 1]",
        ),
        (
            "per_client: [1, 2]",
            "per_client: [1, 2, 3]",
            "s.yaml:11: groups[0].rooms.per_client: expected a whole number >= 0, or a list [lo, hi] of two, got a list",
        ),
        (
            "per_client: [1, 2]",
            "per_client: -1",
            "s.yaml:11: groups[0].rooms.per_client: expected a whole number >= 0, or a list [lo, hi] of two, got -1",
        ),
        (
            "assign: block",
            "asign: block",
            "s.yaml:14: groups[1].asign: unknown key 'asign' (did you mean 'assign'?)",
        ),
        (
            "assign: block",
            "assign: blocks",
            "s.yaml:14: groups[1].assign: expected 'round-robin', 'block' or 'random', got 'blocks'",
        ),
        (
            "per_client: [1, 2]}",
            "per_client: [1, 2], pik: block}",
            "s.yaml:11: groups[0].rooms.pik: unknown key 'pik' (did you mean 'pick'?)",
        ),
        (
            "count: 3",
            "count: 0",
            "s.yaml:13: groups[1].count: expected a whole number from 1 to 1000000, got 0",
        ),
        (
            "count: 3",
            "count: 1000001",
            "s.yaml:13: groups[1].count: expected a whole number from 1 to 1000000, got 1000001",
        ),
        (
            "count: 3",
            "count: '3'",
            "s.yaml:13: groups[1].count: expected a whole number from 1 to 1000000, got '3'",
        ),
        (
            "count: 4,",
            "count: 0,",
            "s.yaml:11: groups[0].rooms.count: expected a whole number from 1 to 1000000000, got 0",
        ),
        (
            "  - prefix: bot\n    count: 3",
            "  - count: 3",
            "s.yaml:12: groups[1].prefix: missing key 'prefix'",
        ),
        (
            "prefix: bot",
            "prefix: 'b t'",
            "s.yaml:12: groups[1].prefix: expected a name (letters, digits, _ - : .), got 'b t'",
        ),
        (
            "{prefix: room,",
            "{prefix: user,",
            "s.yaml:11: groups[0].rooms.prefix: room 'user1' of this group is a client's name; a room may not have the same name",
        ),
        (
            "rooms: [lobby]",
            "rooms: [lobby, bot2]",
            "s.yaml:6: clients[1].rooms[1]: 'bot2' is a client's name; a room may not have the same name",
        ),
        (
            "from: user7,",
            "from: user11,",
            "s.yaml:16: timeline[0].emit.from: unknown client or node 'user11' (did you mean 'user1'?)",
        ),
        (
            "to: room1,",
            "to: room1, namespace: /admin,",
            "s.yaml:16: timeline[0].emit.namespace: expected the namespace of client 'user7' ('/'), got '/admin'",
        ),
        ("groups:\n", "groups: 3\nx:\n", "s.yaml:7: groups: expected a list of groups, got 3"),
    ],
)
def test_bad_group(old: str, new: str, expected: str) -> None:
    """A bad group, or a reference that group clients make wrong: one line, with the
    group's key and line."""
    assert problem(changed(old, new)) == expected


def test_names_of_groups_with_overlapping_prefixes() -> None:
    """Prefixes may overlap (user, user1) as long as the names they make do not."""
    text = changed("prefix: bot", "prefix: user1")  # user11..user13 next to user1..user10
    assert [c.name for c in parse_scenario(text).all_clients()][-3:] == [
        "user11",
        "user12",
        "user13",
    ]
    assert problem(changed("count: 10", "count: 12", text)) == (
        "s.yaml:12: groups[1].prefix: client 'user11' is declared twice (groups[0] and this group)"
    )


def test_steps_are_checked_against_group_clients() -> None:
    """A step may name a group client, not one past the group's count; a room may not be one."""
    assert problem(BASE + "  - {at: 20, disconnect: {client: bot4}}\n") == (
        "s.yaml:17: timeline[1].disconnect.client: unknown client 'bot4' (did you mean 'bot3'?)"
    )
    assert problem(BASE + "  - {at: 20, join: {client: bot1, rooms: [user10]}}\n") == (
        "s.yaml:17: timeline[1].join.rooms[0]: 'user10' is a client's name; a room may not have the same name"
    )
    assert parse_scenario(BASE + "  - {at: 20, join: {client: bot3, rooms: [user11]}}\n")


def test_group_errors_in_json_name_the_line() -> None:
    """In a JSON file a group's error names its line too."""
    data = {
        "cluster": {"nodes": 2},
        "clients": [{"name": "u2", "node": "n1"}],
        "groups": [{"prefix": "u", "count": 5}],
    }
    text = json.dumps(data, indent=2)
    line = text.splitlines().index('      "prefix": "u",') + 1
    assert problem(text, "s.json") == (
        f"s.json:{line}: groups[0].prefix: client 'u2' is declared twice (clients[0] and this group)"
    )


def test_groups_from_python() -> None:
    """scenario_from_dict takes groups as a file gives them; errors name the key, no line."""
    sc = scenario_from_dict({"cluster": {"nodes": 1}, "groups": [{"prefix": "p", "count": 2}]})
    assert isinstance(sc, Scenario) and [c.node for c in sc.all_clients()] == ["n1", "n1"]
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(
            {"cluster": {"nodes": 1}, "groups": [{"prefix": "p", "count": 2, "nodes": "n2"}]}
        )
    assert str(caught.value) == "<dict>: groups[0].nodes[0]: unknown node 'n2'"


def test_a_group_client_reads_as_the_client_it_stands_for() -> None:
    """A group's client is the client `clients:` would declare with the group's
    `connect_at` and `namespace`, its own name, node and rooms, and every other
    field at its default: field by field, as a whole, and after pickling."""
    import pickle

    group = {
        "prefix": "u",
        "count": 5,
        "connect_at": 7,
        "namespace": "/chat",
        "rooms": {"prefix": "r", "count": 3, "per_client": 2},
    }
    clients = group_clients(group, nodes=2)
    assert [c.name for c in clients] == ["u1", "u2", "u3", "u4", "u5"]
    for c in clients:
        declared = ClientSpec(
            name=c.name, node=c.node, rooms=list(c.rooms), connect_at=7, namespace="/chat"
        )
        for field in ClientSpec.model_fields:
            assert getattr(c, field) == getattr(declared, field), field
        assert c == declared and c.spec() == declared
        again = pickle.loads(pickle.dumps(c))
        assert again == c and (again.name, again.rooms) == (c.name, c.rooms)
    assert clients[0] != clients[1]


def test_a_group_shares_its_fields_instead_of_copying_them() -> None:
    """What the clients of one group have in common is held once, by the group."""
    clients = group_clients({"prefix": "u", "count": 50, "connect_at": 3})
    assert len({type(c) for c in clients}) == 1
    assert all(not hasattr(c, "__dict__") for c in clients)
    other = group_clients({"prefix": "v", "count": 2, "connect_at": 4})
    assert type(other[0]) is not type(clients[0]) and other[0].connect_at == 4
