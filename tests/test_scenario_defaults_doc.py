"""docs/scenario-format.md states the default of every optional key, and the
defaults it states are the ones a loaded scenario has."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from roomsim.scenario import parse_scenario
from roomsim.scenario.document import RecoverySpec, Scenario
from roomsim.scenario.groups import ClientGroup, GroupRooms
from roomsim.scenario.models import (
    BrokerSpec,
    ClientSpec,
    ClusterSpec,
    ConnectStep,
    CostsSpec,
    DisconnectSocketsStep,
    DisconnectStep,
    EmitStep,
    FetchSocketsStep,
    LatencySpec,
    LoadSpec,
    NodeLatency,
    PartitionStep,
    ServerSideEmitStep,
    SocketsJoinStep,
    SocketsLeaveStep,
)

DOC = (Path(__file__).resolve().parent.parent / "docs" / "scenario-format.md").read_text()

#: where each model's keys are written in the file
PREFIXES: dict[str, type[BaseModel]] = {
    "": Scenario,
    "cluster.": ClusterSpec,
    "cluster.broker.": BrokerSpec,
    "latency.": LatencySpec,
    "latency.nodes.NODE.": NodeLatency,
    "clients[].": ClientSpec,
    "groups[].": ClientGroup,
    "groups[].rooms.": GroupRooms,
    "emit.": EmitStep,
    "sockets_join.": SocketsJoinStep,
    "sockets_leave.": SocketsLeaveStep,
    "disconnect_sockets.": DisconnectSocketsStep,
    "fetch_sockets.": FetchSocketsStep,
    "server_side_emit.": ServerSideEmitStep,
    "disconnect.": DisconnectStep,
    "connect.": ConnectStep,
    "partition.": PartitionStep,
    "connection_state_recovery.": RecoverySpec,
    "costs.": CostsSpec,
    "load[].": LoadSpec,
}

#: one step of each kind with only its required keys, and one of everything else
MINIMAL = """\
cluster: {nodes: [n1, n2]}
clients: [{name: a, node: n1}, {name: b, node: n2}]
groups: [{prefix: u, count: 2, rooms: {prefix: r, count: 2}}]
connection_state_recovery: {}
costs: {}
load: [{rate: 1, duration: 1}]
latency: {nodes: {n1: {}}}
timeline:
  - {at: 1, emit: {from: n1}}
  - {at: 2, sockets_join: {from: n1, rooms: [x]}}
  - {at: 3, sockets_leave: {from: n1, rooms: [x]}}
  - {at: 4, disconnect_sockets: {from: n1}}
  - {at: 5, fetch_sockets: {from: n1}}
  - {at: 6, server_side_emit: {from: n1, event: e}}
  - {at: 7, disconnect: {client: a}}
  - {at: 8, connect: {client: a}}
  - {at: 9, partition: {node: n2}}
"""


def _table() -> dict[str, str]:
    """The defaults table: key path -> the default cell."""
    section = DOC.split("## Defaults", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        for key in re.findall(r"`([^`]+)`", cells[0]):
            assert key not in rows, f"{key} is in the table twice"
            rows[key] = cells[1]
    return rows


def _optional_keys() -> set[str]:
    keys = set()
    for prefix, model in PREFIXES.items():
        hidden = getattr(model, "_not_file_keys", frozenset())
        hidden = hidden.default if hasattr(hidden, "default") else hidden
        for name, field in model.model_fields.items():
            key = field.alias or name
            if not field.is_required() and key not in hidden:
                keys.add(prefix + key)
    return keys


def test_every_optional_key_has_its_default_stated() -> None:
    """Each key a file may leave out, of every part of a scenario, has a row in
    the defaults table, and each row is a key the format has."""
    rows = set(_table())
    wanted = _optional_keys()
    assert wanted - rows == set(), "no default stated"
    assert rows - wanted == set(), "not a key of the format"


def _value(scenario: Scenario, key: str) -> Any:
    prefix, _, name = key.rpartition(".")
    steps = {
        next(iter(s.model_dump(exclude_none=True, exclude={"at", "index"}))): s
        for s in scenario.timeline
    }
    owners: dict[str, Any] = {
        "": scenario,
        "cluster": scenario.cluster,
        "cluster.broker": scenario.cluster.broker,
        "latency": scenario.latency,
        "latency.nodes.NODE": scenario.latency.nodes["n1"],
        "clients[]": scenario.clients[0],
        "groups[]": scenario.groups[0],
        "groups[].rooms": scenario.groups[0].rooms,
        "connection_state_recovery": scenario.connection_state_recovery,
        "costs": scenario.costs,
        "load[]": scenario.load[0] if scenario.load else None,
    }
    owner = owners[prefix] if prefix in owners else getattr(steps[prefix], prefix)
    field = next(n for n, f in type(owner).model_fields.items() if (f.alias or n) == name)
    return getattr(owner, field)


@pytest.mark.parametrize(
    ("key", "cell"),
    [(k, c) for k, c in _table().items() if re.fullmatch(r"`[^`]+`", c)],
)
def test_each_stated_default_is_the_loaded_value(key: str, cell: str) -> None:
    """A default written as a value (`0`, `true`, `dynamic`, ...) is what a
    scenario that leaves the key out holds."""
    scenario = parse_scenario(MINIMAL)
    expected = yaml.safe_load(cell.strip("`"))
    if isinstance(expected, str) and not isinstance(_value(scenario, key), str):
        expected = cell.strip("`")
    assert _value(scenario, key) == expected


def test_the_prose_defaults_that_can_be_seen_on_a_run() -> None:
    """Left out: the adapter is memory for one node and redis for more, the
    latency is 0 ms (a delivery at emit time), an emit's event is 'message'."""
    from roomsim.runner import run_scenario

    one = parse_scenario(
        "cluster: {nodes: 1}\nclients: [{name: a, node: n1}]\n"
        "timeline: [{at: 10, emit: {from: n1}}]\n"
    )
    two = parse_scenario("cluster: {nodes: 2}\n")
    assert (one.cluster.adapter, two.cluster.adapter) == ("memory", "redis")
    delivered = run_scenario(one).trace.records("deliver")
    assert [(r["t"], r["event"]) for r in delivered] == [(10, "message")]
    assert "(left out: 0 ms)" in DOC
