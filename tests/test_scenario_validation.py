"""The scenario loader: valid files load to the right values; every kind of
bad input gives one line naming the file, the line and the key."""

# ruff: noqa: E501  (the contract's example is kept verbatim; messages read best whole)

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

from roomsim.scenario import (
    DISCONNECT_REASONS,
    RESERVED_EVENTS,
    ClusterSpec,
    LatencySpec,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
    scenario_from_dict,
)

# The example of scenario-format.md, as it is written there.
FULL = """\
name: two rooms and a private message     # free text, optional
seed: 7                                   # optional; same seed, same trace, byte for byte
cluster:
  nodes: [n1, n2, n3]                     # server node names (or an integer N from 1 to 10000: n1..nN)
  adapter: redis                          # memory (one node only) | redis | sharded-redis | ...
latency:                                  # optional; each a number: constant ms (distributions may be added)
  client_ms: 5                            # one way, client <-> its node
  adapter_ms: 1                           # one way, node -> broker -> node
clients:
  - {name: alice, node: n1}               # connects at t=0 to node n1
  - {name: bob, node: n2, rooms: [lobby]} # joins 'lobby' in its connection handler
  - {name: carol, node: n3, connect_at: 50}   # connects later
timeline:                                 # each step happens at its time, on the server side
  - {at: 10, join:  {client: alice, rooms: [room1, room2]}}   # socket.join([...])
  - {at: 12, leave: {client: alice, rooms: [room2]}}          # socket.leave(...)
  - {at: 20, emit: {id: m1, from: n1, to: [room1, room2], except: [room3], event: news, data: {x: 1}}}
                                                              # io.to(room1).to(room2).except(room3).emit('news', ...) on node n1
  - {at: 30, emit: {id: m2, from: n2, event: hello}}          # io.emit: every socket of the namespace
  - {at: 40, emit: {id: m3, from: alice, to: [room1], event: chat}}
                                                              # socket.to('room1').emit(...): the sender never receives it
  - {at: 50, emit: {id: m4, from: alice, broadcast: true, event: chat}}
                                                              # socket.broadcast.emit(...): everyone but the sender
  - {at: 60, emit: {id: m5, from: alice, to: [bob], event: private message}}
                                                              # a client's name in to/except means that client's own room (its socket id)
  - {at: 70, emit: {id: m6, from: n1, to: [room1], local: true, event: news}}
                                                              # io.local.to(...): only sockets on node n1
  - {at: 80, disconnect: {client: bob}}                       # the client goes away: 'disconnecting' sees its rooms, 'disconnect' sees none
  - {at: 90, connect: {client: bob, node: n3}}                # it comes back, as a new socket with a new id, in no room but its own
"""

# A small valid file; the error tests change one thing in it. Its lines:
BASE = """\
cluster:
  nodes: [n1, n2]
clients:
  - {name: alice, node: n1}
  - {name: bob, node: n2, rooms: [lobby]}
timeline:
  - {at: 10, join: {client: alice, rooms: [room1]}}
  - {at: 20, emit: {from: n1, to: [room1], event: news}}
"""


def problem(text: str | bytes, path: str = "s.yaml") -> str:
    """The one-line error the loader gives for ``text``."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, path)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message
    return message


def changed(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# --- valid files ----------------------------------------------------------------


def test_full_example_loads_with_its_values() -> None:
    """The contract's example loads: every key means what the contract says."""
    sc = parse_scenario(FULL, "full.yaml")
    assert sc.name == "two rooms and a private message"
    assert sc.seed == 7
    assert sc.cluster == ClusterSpec(nodes=["n1", "n2", "n3"], adapter="redis")
    assert sc.latency == LatencySpec(client_ms=5, adapter_ms=1)
    assert [(c.name, c.node, c.rooms, c.connect_at) for c in sc.clients] == [
        ("alice", "n1", [], 0.0),
        ("bob", "n2", ["lobby"], 0.0),
        ("carol", "n3", [], 50.0),
    ]
    assert [(s.index, s.at, s.action) for s in sc.timeline] == [
        (0, 10, "join"),
        (1, 12, "leave"),
        (2, 20, "emit"),
        (3, 30, "emit"),
        (4, 40, "emit"),
        (5, 50, "emit"),
        (6, 60, "emit"),
        (7, 70, "emit"),
        (8, 80, "disconnect"),
        (9, 90, "connect"),
    ]
    assert sc.timeline[0].body.rooms == ["room1", "room2"]
    m1 = sc.timeline[2].emit
    assert (m1.id, m1.from_, m1.to, m1.except_, m1.event, m1.data) == (
        "m1",
        "n1",
        ["room1", "room2"],
        ["room3"],
        "news",
        {"x": 1},
    )
    assert not m1.sender_is_client and sc.timeline[4].emit.sender_is_client
    assert sc.timeline[3].emit.to is None  # no `to`: every socket of the namespace
    assert sc.timeline[5].emit.broadcast and not sc.timeline[5].emit.local
    assert sc.timeline[6].emit.event == "private message"
    assert sc.timeline[7].emit.local
    assert sc.timeline[8].disconnect.reason == "client namespace disconnect"
    assert (sc.timeline[9].connect.client, sc.timeline[9].connect.node) == ("bob", "n3")
    assert sc.until is None


def test_json_file_gives_the_same_scenario(tmp_path: Path) -> None:
    """A .json file is read as JSON and means exactly what the YAML means."""
    yaml_file = tmp_path / "full.yaml"
    yaml_file.write_text(FULL)
    sc = load_scenario(yaml_file)
    data = sc.model_dump(
        by_alias=True, exclude_none=True, exclude={"timeline": {"__all__": {"index"}}}
    )
    json_file = tmp_path / "full.json"
    json_file.write_text(json.dumps(data, indent=2))
    assert load_scenario(json_file) == sc
    assert load_scenario(str(json_file)) == scenario_from_dict(data)


def test_defaults() -> None:
    """Left-out keys take the contract's defaults."""
    sc = parse_scenario(
        "cluster: {nodes: [solo]}\n"
        "clients: [{name: a, node: solo}]\n"
        "timeline:\n"
        "  - {at: 0, emit: {from: solo}}\n"
        "  - {at: 1, disconnect: {client: a}}\n"
        "  - {at: 2, connect: {client: a}}\n"
    )
    assert (sc.name, sc.seed, sc.until) == (None, None, None)
    assert sc.cluster.adapter == "memory"  # one node
    assert sc.latency == LatencySpec(client_ms=0.0, adapter_ms=0.0)
    client = sc.clients[0]
    assert (client.rooms, client.connect_at, client.namespace) == ([], 0.0, "/")
    emit = sc.timeline[0].emit
    assert (emit.id, emit.to, emit.except_, emit.event, emit.data) == (
        "m1",
        None,
        [],
        "message",
        None,
    )
    assert (emit.broadcast, emit.local, emit.namespace) == (False, False, None)
    assert sc.timeline[1].disconnect.reason == DISCONNECT_REASONS[0]
    assert (sc.timeline[2].connect.node, sc.timeline[2].connect.rooms) == (None, [])
    assert parse_scenario("cluster: {nodes: [a, b]}").cluster.adapter == "redis"


def test_number_of_nodes_means_n1_to_nN() -> None:
    """`nodes: N` is the nodes n1..nN."""
    assert parse_scenario("cluster: {nodes: 3}").cluster.nodes == ["n1", "n2", "n3"]
    assert len(parse_scenario("cluster: {nodes: 10000}").cluster.nodes) == 10000


def test_a_single_name_is_a_list_of_one() -> None:
    """rooms, to and except accept a single name for a list of one."""
    sc = parse_scenario(
        "cluster: {nodes: 1}\n"
        "clients: [{name: a, node: n1, rooms: lobby}]\n"
        "timeline:\n"
        "  - {at: 1, join: {client: a, rooms: r1}}\n"
        "  - {at: 2, leave: {client: a, rooms: r1}}\n"
        "  - {at: 3, emit: {from: n1, to: r1, except: a}}\n"
    )
    assert sc.clients[0].rooms == ["lobby"]
    assert sc.timeline[0].join.rooms == sc.timeline[1].leave.rooms == ["r1"]
    assert (sc.timeline[2].emit.to, sc.timeline[2].emit.except_) == (["r1"], ["a"])


def test_numbers_are_names() -> None:
    """A number where a name is expected is that number written as a name."""
    sc = parse_scenario(
        "cluster: {nodes: [1, 2]}\n"
        "clients: [{name: 7, node: 1, rooms: [42, 1.5]}]\n"
        "timeline: [{at: 1, emit: {id: 9, from: 2, to: [42], event: 3}}]\n"
    )
    assert sc.cluster.nodes == ["1", "2"]
    assert (sc.clients[0].name, sc.clients[0].node, sc.clients[0].rooms) == (
        "7",
        "1",
        ["42", "1.5"],
    )
    emit = sc.timeline[0].emit
    assert (emit.id, emit.from_, emit.to, emit.event) == ("9", "2", ["42"], "3")


def test_automatic_ids_skip_the_ids_the_file_gives() -> None:
    """An emit without id gets m<k>, the smallest k no other emit of the file uses."""
    sc = parse_scenario(
        "cluster: {nodes: 1}\n"
        "timeline:\n"
        "  - {at: 1, emit: {from: n1}}\n"
        "  - {at: 2, emit: {from: n1, id: m1}}\n"
        "  - {at: 3, emit: {from: n1}}\n"
        "  - {at: 4, emit: {from: n1, id: m3}}\n"
        "  - {at: 5, emit: {from: n1}}\n"
    )
    assert [s.emit.id for s in sc.timeline] == ["m2", "m1", "m4", "m3", "m5"]


def test_namespaces_and_reasons() -> None:
    """Namespaces are '/' or '/name' ('' is '/'); reasons are Socket.IO's."""
    sc = parse_scenario(
        "cluster: {nodes: 1}\n"
        "clients: [{name: a, node: n1, namespace: /admin}, {name: b, node: n1, namespace: ''}]\n"
        "timeline:\n"
        "  - {at: 1, emit: {from: a, namespace: /admin}}\n"
        "  - {at: 1, emit: {from: n1, namespace: /admin, event: connect}}\n"
        "  - {at: 2, disconnect: {client: a, reason: ping timeout}}\n"
    )
    assert [c.namespace for c in sc.clients] == ["/admin", "/"]
    assert sc.timeline[1].emit.event in RESERVED_EVENTS  # refused at run time, not here
    assert sc.timeline[2].disconnect.reason == "ping timeout"


def test_yaml_anchors_and_merge_keys() -> None:
    """YAML aliases and `<<` merges work as YAML says; the keys are still checked."""
    sc = parse_scenario(
        "cluster: {nodes: 1}\n"
        "timeline:\n"
        "  - {at: 1, emit: &news {from: n1, to: [r1], event: news}}\n"
        "  - {at: 2, emit: {<<: *news, to: r2}}\n"
    )
    assert [(s.emit.id, s.emit.to, s.emit.event) for s in sc.timeline] == [
        ("m1", ["r1"], "news"),
        ("m2", ["r2"], "news"),
    ]


def test_python_users_and_until() -> None:
    """scenario_from_dict takes the file's keys; `until` is an optional time."""
    sc = scenario_from_dict({"cluster": {"nodes": 2}, "until": 500})
    assert (sc.until, sc.cluster.adapter) == (500.0, "redis")
    assert isinstance(sc, Scenario)


@pytest.mark.slow
def test_big_json_file_loads_and_errors_deep_inside_name_their_line() -> None:
    """A JSON file of 100,000 clients loads; an error near its end names its line.

    (How fast is measured by benchmarks/, not here.)"""
    clients = [
        {"name": f"c{i}", "node": f"n{i % 10 + 1}", "rooms": [f"r{i % 100}"]}
        for i in range(100_000)
    ]
    text = json.dumps({"cluster": {"nodes": 10}, "clients": clients})
    assert len(parse_scenario(text, "big.json").clients) == 100_000
    clients[99_999]["nodee"] = "n1"
    message = problem(
        json.dumps({"cluster": {"nodes": 10}, "clients": clients}, indent=1), "big.json"
    )
    assert message.startswith("big.json:700005: clients[99999].nodee: unknown key 'nodee'")


# --- errors: keys ---------------------------------------------------------------


def test_unknown_key_names_the_line_and_suggests() -> None:
    """A misspelt key is refused, with the closest known key as a hint."""
    text = changed("  - {name: bob, node: n2,", "  - {name: bob, nodee: n2,")
    assert problem(text) == "s.yaml:5: clients[1].nodee: unknown key 'nodee' (did you mean 'node'?)"
    text = BASE + "zzz: 1\n"
    assert problem(text) == (
        "s.yaml:9: zzz: unknown key 'zzz' "
        "(known keys: name, seed, cluster, latency, clients, groups, timeline, until,"
        " connection_state_recovery, costs, load)"
    )


def test_unknown_key_in_block_style_is_on_its_own_line() -> None:
    """In block style the line is the misspelt key's own line."""
    text = "cluster:\n  nodes: 1\nclients:\n  - name: a\n    nod: n1\n"
    assert problem(text) == "s.yaml:5: clients[0].nod: unknown key 'nod' (did you mean 'node'?)"


def test_python_spellings_are_not_file_keys() -> None:
    """`from_`, `except_` and `index` are Python names, not keys of a file."""
    text = changed("{from: n1,", "{from_: n1,")
    assert (
        problem(text)
        == "s.yaml:8: timeline[1].emit.from_: unknown key 'from_' (did you mean 'from'?)"
    )
    text = changed("{at: 10,", "{at: 10, index: 0,")
    assert problem(text).startswith("s.yaml:7: timeline[0].index: unknown key 'index'")


def test_missing_key() -> None:
    """A required key that is absent is named."""
    assert problem(changed("{client: alice, rooms", "{rooms")) == (
        "s.yaml:7: timeline[0].join.client: missing key 'client'"
    )
    assert (
        problem(changed("{from: n1, ", "{"))
        == "s.yaml:8: timeline[1].emit.from: missing key 'from'"
    )
    assert problem("seed: 1\n") == "s.yaml:1: cluster: missing key 'cluster'"


TIME = "expected a time in ms (a number >= 0)"
NAME = "expected a name (letters, digits, _ - : .)"
NODES = "expected a list of node names or a number of nodes from 1 to 10000"
SOME_NAMES = "expected a name or a list of names"


# fmt: off
WRONG_TYPES = [  # (old, new) in BASE, then the line, the key path and the reason
    ("at: 20,", "at: soon,", 8, "timeline[1].at", f"{TIME}, got 'soon'"),
    ("at: 20,", "at: '20',", 8, "timeline[1].at", f"{TIME}, got '20'"),
    ("at: 20,", "at: true,", 8, "timeline[1].at", f"{TIME}, got true"),
    ("news", "news, local: 'yes'", 8, "timeline[1].emit.local", "expected true or false, got 'yes'"),
    ("news", "''", 8, "timeline[1].emit.event", "expected an event name (a non-empty string), got ''"),
    ("clients:\n", "seed: 1.5\nclients:\n", 3, "seed", "expected a whole number, got 1.5"),
    ("[lobby]", "{lobby: 1}", 5, "clients[1].rooms", "expected a name or a list of names, got a mapping"),
    ("join: {client: alice, rooms: [room1]}", "join: alice", 7, "timeline[0].join", "expected a mapping, got 'alice'"),
    ("{name: alice, node: n1}", "alice", 4, "clients[0]", "expected a mapping, got 'alice'"),
    ("clients:\n", "latency: 5\nclients:\n", 3, "latency", "expected a mapping, got 5"),
    ("clients:\n  - {name: alice, node: n1}\n", "clients: {alice: n1}\nx:\n", 3, "clients", "expected a list of clients, got a mapping"),
    ("[n1, n2]", "two", 2, "cluster.nodes", f"{NODES}, got 'two'"),
    ("[n1, n2]", "0", 2, "cluster.nodes", f"{NODES}, got 0"),
    ("[n1, n2]", "[n1, n2]\n  adapter: x", 3, "cluster.adapter", "expected 'memory', 'redis' or 'sharded-redis', got 'x'"),
    ("to: [room1]", "to: ", 8, "timeline[1].emit.to", f"{SOME_NAMES}, got null"),
    ("node: n1}", "node: n1, namespace: x}", 4, "clients[0].namespace", "expected a namespace ('/' or '/' followed by a name), got 'x'"),
    ("news", "news, data: !!timestamp 2024-01-01", 8, "timeline[1].emit.data", "expected JSON data (null, true/false, numbers, text, lists, mappings), got a date"),
]
# fmt: on


@pytest.mark.parametrize(("old", "new", "line", "key", "reason"), WRONG_TYPES)
def test_wrong_type_is_said_in_plain_words(
    old: str, new: str, line: int, key: str, reason: str
) -> None:
    """A value of the wrong kind: 'expected <thing>, got <value>' in plain words."""
    assert problem(changed(old, new)) == f"s.yaml:{line}: {key}: {reason}"


def test_unknown_disconnect_reason() -> None:
    """A disconnect reason must be one of Socket.IO's."""
    message = problem(BASE + "  - {at: 30, disconnect: {client: bob, reason: bye}}\n")
    assert message.startswith(
        "s.yaml:9: timeline[2].disconnect.reason: expected a disconnect reason ("
    )
    assert message.endswith("'forced server close'), got 'bye'")


def test_a_latency_is_a_number_or_a_distribution() -> None:
    """A latency is a number >= 0 or a distribution mapping; anything else is refused."""
    for bad, got in (
        ("-2", "-2"),
        ("{uniform: [5, 1]}", "a mapping"),
        ("fast", "'fast'"),
    ):
        text = BASE.replace("clients:\n", f"latency: {{adapter_ms: {bad}}}\nclients:\n", 1)
        assert problem(text) == (
            "s.yaml:3: latency.adapter_ms: expected a latency in ms (a number >= 0,"
            " {uniform: [low, high]}, {exponential: mean} or {lognormal: {median: m, sigma: s}}),"
            f" got {got}"
        )


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "got"),
    [
        ("to: [room1]", "to: [a b]", 8, "timeline[1].emit.to[0]", "'a b'"),
        ("rooms: [lobby]", "rooms: [lobby, null]", 5, "clients[1].rooms[1]", "null"),
        ("rooms: [room1]", "rooms: [room1, True]", 7, "timeline[0].join.rooms[1]", "true"),
        ("{name: alice,", "{name: 'al/ice',", 4, "clients[0].name", "'al/ice'"),
        ("[n1, n2]", "[n1, 'n 2']", 2, "cluster.nodes[1]", "'n 2'"),
        ("{from: n1,", '{id: "x\\ny", from: n1,', 8, "timeline[1].emit.id", "'x\\ny'"),
    ],
)
def test_bad_name(old: str, new: str, line: int, key: str, got: str) -> None:
    """Names are letters, digits, _ - : . (numbers allowed; true/false/null not)."""
    assert problem(changed(old, new)) == f"s.yaml:{line}: {key}: {NAME}, got {got}"


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "got"),
    [
        ("at: 10,", "at: -1,", 7, "timeline[0].at", "-1"),
        ("at: 10,", "at: .nan,", 7, "timeline[0].at", "nan"),
        ("at: 10,", "at: .inf,", 7, "timeline[0].at", "inf"),
        ("node: n1}", "node: n1, connect_at: -0.5}", 4, "clients[0].connect_at", "-0.5"),
        ("clients:\n", "until: -5\nclients:\n", 3, "until", "-5"),
    ],
)
def test_negative_or_non_finite_time(old: str, new: str, line: int, key: str, got: str) -> None:
    """Times are numbers >= 0, finite."""
    assert problem(changed(old, new)) == f"s.yaml:{line}: {key}: {TIME}, got {got}"


# --- errors: names and references --------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "{client: alice, rooms",
            "{client: zed, rooms",
            "s.yaml:7: timeline[0].join.client: unknown client 'zed'",
        ),
        (
            "{name: bob, node: n2",
            "{name: bob, node: n9",
            "s.yaml:5: clients[1].node: unknown node 'n9'",
        ),
        (
            "{from: n1,",
            "{from: n7,",
            "s.yaml:8: timeline[1].emit.from: unknown client or node 'n7'",
        ),
    ],
)
def test_unknown_reference(old: str, new: str, expected: str) -> None:
    """Clients, nodes and senders that are referred to must be declared."""
    assert problem(changed(old, new)) == expected


def test_unknown_reference_in_later_steps() -> None:
    """leave, disconnect and connect name a declared client; connect a declared node."""
    assert problem(BASE + "  - {at: 30, leave: {client: zed, rooms: r}}\n") == (
        "s.yaml:9: timeline[2].leave.client: unknown client 'zed'"
    )
    assert problem(BASE + "  - {at: 30, disconnect: {client: zed}}\n") == (
        "s.yaml:9: timeline[2].disconnect.client: unknown client 'zed'"
    )
    assert problem(BASE + "  - {at: 30, connect: {client: bob, node: n5}}\n") == (
        "s.yaml:9: timeline[2].connect.node: unknown node 'n5'"
    )


def test_duplicates() -> None:
    """Node names, client names and message ids are each used once."""
    assert (
        problem(changed("[n1, n2]", "[n1, n2, n1]"))
        == "s.yaml:2: cluster.nodes[2]: duplicate node 'n1'"
    )
    assert problem(changed("{name: bob,", "{name: alice,")) == (
        "s.yaml:5: clients[1].name: duplicate client 'alice'"
    )
    text = changed(
        "{at: 10, join: {client: alice, rooms: [room1]}}", "{at: 10, emit: {id: m1, from: n1}}"
    )
    text += "  - {at: 30, emit: {id: m1, from: n2}}\n"
    assert problem(text) == "s.yaml:9: timeline[2].emit.id: duplicate message id 'm1'"


def test_client_named_like_a_node_or_a_room() -> None:
    """A client's name is neither a node's name nor a room's name."""
    assert problem(changed("{name: bob,", "{name: n1,")) == (
        "s.yaml:5: clients[1].name: 'n1' is a node's name; a client may not have the same name"
    )
    assert problem(changed("rooms: [lobby]", "rooms: [lobby, alice]")) == (
        "s.yaml:5: clients[1].rooms[1]: 'alice' is a client's name; a room may not have the same name"
    )
    assert problem(changed("rooms: [room1]", "rooms: [bob]")) == (
        "s.yaml:7: timeline[0].join.rooms[0]: 'bob' is a client's name; a room may not have the same name"
    )
    # in to/except a client's name means that client
    assert parse_scenario(changed("to: [room1]", "to: [bob], except: [alice]")).timeline[
        1
    ].emit.to == ["bob"]


def test_memory_adapter_joins_no_nodes() -> None:
    """The in-memory adapter serves one node only."""
    assert problem(changed("  nodes: [n1, n2]", "  nodes: [n1, n2]\n  adapter: memory")) == (
        "s.yaml:3: cluster.adapter: expected one node with adapter 'memory' "
        "(use 'redis' to join several nodes)"
    )


def test_emit_namespace_of_a_client_is_its_own() -> None:
    """An emit from a client is in that client's namespace."""
    text = changed("{from: n1,", "{from: alice, namespace: /admin,")
    assert problem(text) == (
        "s.yaml:8: timeline[1].emit.namespace: expected the namespace of client 'alice' ('/'), got '/admin'"
    )


def test_exactly_one_action_per_step() -> None:
    """A step has exactly one action (join, leave, emit, disconnect, connect, ...)."""
    among = (
        "expected exactly one action among join, leave, emit, disconnect, connect,"
        " sockets_join, sockets_leave, disconnect_sockets, fetch_sockets, server_side_emit,"
        " crash, restart, broker, partition, heal"
    )
    assert problem(BASE + "  - {at: 30}\n") == f"s.yaml:9: timeline[2]: {among}, got none"
    text = BASE + "  - at: 30\n    disconnect: {client: bob}\n    connect: {client: bob}\n"
    assert problem(text) == f"s.yaml:9: timeline[2]: {among}, got disconnect and connect"
    text = BASE + "  - at: 30\n    join:\n"
    assert problem(text) == "s.yaml:10: timeline[2].join: expected a mapping, got null"


def test_the_first_problem_in_the_file_is_reported() -> None:
    """With several problems, the one met first in the file is reported."""
    text = "timeline:\n  - {at: -1, emit: {from: n1}}\ncluster:\n  nodes: [n1, 'bad name']\n"
    assert (
        problem(text) == "s.yaml:2: timeline[0].at: expected a time in ms (a number >= 0), got -1"
    )


# --- errors: the file itself ----------------------------------------------------------------


def test_duplicate_keys() -> None:
    """A key given twice in one mapping is refused (YAML and JSON)."""
    assert problem(BASE + "cluster: {nodes: 1}\n") == "s.yaml:9: cluster: duplicate key 'cluster'"
    assert problem(changed("{name: alice, node: n1}", "{name: alice, node: n1, node: n2}")) == (
        "s.yaml:4: clients[0].node: duplicate key 'node'"
    )
    text = '{\n  "cluster": {"nodes": 2},\n  "clients": [\n    {"name": "a", "node": "n1", "node": "n2"}\n  ]\n}'
    assert problem(text, "s.json") == "s.json:4: clients[0].node: duplicate key 'node'"


def test_malformed_yaml() -> None:
    """A YAML syntax error gives the parser's line and a short reason."""
    message = problem(changed("to: [room1]", "to: [room1"))
    assert message.startswith("s.yaml:8: malformed YAML: ")
    message = problem("cluster:\n  nodes: [n1]\n\tclients: []\n")
    assert message.startswith("s.yaml:3: malformed YAML: ")


def test_malformed_json() -> None:
    """A JSON syntax error (or a non-JSON value) gives the line and a short reason."""
    assert problem('{\n  "cluster": {"nodes": 1},\n}', "s.json") == (
        "s.json:3: malformed JSON: expecting property name enclosed in double quotes at column 1"
    )
    assert problem('{"cluster": {"nodes": 1},\n "until": NaN}', "s.json") == (
        "s.json:2: until: expected a time in ms (a number >= 0), got NaN"
    )


def test_json_errors_name_the_line() -> None:
    """In JSON the error's line is found too (the key's, or the list item's)."""
    clients = [{"name": f"c{i}", "node": "n1"} for i in range(60)]
    clients[57]["rooms"] = ["ok", "not ok"]
    text = json.dumps({"cluster": {"nodes": 1}, "clients": clients}, indent=2)
    line = text.splitlines().index('        "not ok"') + 1
    assert problem(text, "s.json") == (
        f"s.json:{line}: clients[57].rooms[1]: expected a name (letters, digits, _ - : .), got 'not ok'"
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "s.yaml: the file is empty"),
        (b"  \n\n \t\n", "s.yaml: the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "s.yaml: not a text file (UTF-8 expected)"),
        (b"cluster: {nodes: 1}\x00", "s.yaml: not a text file (UTF-8 expected)"),
        (
            b"# only a comment\n",
            "s.yaml: expected a mapping at the top level, got an empty document",
        ),
        (b"- cluster\n", "s.yaml:1: expected a mapping at the top level, got a list"),
    ],
)
def test_files_that_are_not_scenarios(tmp_path: Path, content: bytes, expected: str) -> None:
    """Empty, binary or non-mapping files are refused in one line."""
    path = tmp_path / "s.yaml"
    path.write_bytes(content)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}{expected.removeprefix('s.yaml')}"


def test_top_level_must_be_a_mapping_in_json() -> None:
    """A JSON file holding a list is refused, at the list's line."""
    assert (
        problem('\n[{"cluster": 1}]', "s.json")
        == "s.json:2: expected a mapping at the top level, got a list"
    )


def test_missing_file_and_directory(tmp_path: Path) -> None:
    """A missing file or a directory: one line with the path."""
    for path, reason in [
        (tmp_path / "nope.yaml", "file not found"),
        (tmp_path, "is a directory, not a file"),
    ]:
        with pytest.raises(ScenarioError) as caught:
            load_scenario(path)
        assert str(caught.value) == f"{path}: {reason}"
        assert (caught.value.line, caught.value.key, caught.value.reason) == (None, None, reason)


def test_error_attributes() -> None:
    """ScenarioError carries path, line, key and reason, and survives pickling."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(changed("{from: n1,", "{from: zed,"), "x.yaml")
    err = caught.value
    assert (err.path, err.line, err.key, err.reason) == (
        "x.yaml",
        8,
        "timeline[1].emit.from",
        "unknown client or node 'zed'",
    )
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.line == 8


def test_python_dicts_have_no_lines() -> None:
    """scenario_from_dict names the key but no line."""
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict({"cluster": {"nodes": 1}, "clients": [{"name": "a", "node": "n2"}]})
    assert str(caught.value) == "<dict>: clients[0].node: unknown node 'n2'"
    with pytest.raises(
        ScenarioError, match=r"^<dict>: expected a mapping at the top level, got a list$"
    ):
        scenario_from_dict([1])  # type: ignore[arg-type]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions")
def test_unreadable_file(tmp_path: Path) -> None:
    """A file that cannot be read: one line."""
    path = tmp_path / "s.yaml"
    path.write_text(BASE)
    path.chmod(0)
    with pytest.raises(ScenarioError, match=r"permission denied$"):
        load_scenario(path)


def test_plain_scalars_follow_yaml_1_2() -> None:
    """Names like ``on``, ``no``, ``1:30``, ``1_000`` and ``2024-01-01`` are strings, as
    in YAML 1.2 (PyYAML's YAML 1.1 would make them booleans, numbers and dates)."""
    text = BASE.replace("rooms: [lobby]", "rooms: [on, no, '1:30', 1:30, 1_000, 2024-01-01]")
    sc = parse_scenario(text, "s.yaml")
    assert sc.clients[1].rooms == ["on", "no", "1:30", "1:30", "1_000", "2024-01-01"]


def test_empty_to_means_everyone_and_empty_rooms_change_nothing() -> None:
    """``to: []`` adds no room, so it reaches every socket (``io.to([])``); a join or
    leave of no rooms writes no record."""
    from roomsim.runner import run_scenario

    text = BASE.replace("to: [room1]", "to: []").replace(
        "timeline:\n", "timeline:\n  - {at: 1, join: {client: alice, rooms: []}}\n"
    )
    sc = parse_scenario(text, "s.yaml")
    trace = run_scenario(sc).trace
    emit = next(s.emit for s in sc.timeline if s.emit is not None and s.emit.to == [])
    connected = {r["client"] for r in trace.records("connect") if r["t"] <= 20}
    assert set(trace.recipients(emit.id)) >= connected - {emit.from_}
    assert not [r for r in trace.records("join") if r["t"] == 1]
