"""Fuzzing the scenario loader: whatever the bytes, it either loads a
Scenario or raises one ScenarioError whose text is one line starting with the
file's name. It never lets any other exception out."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomsim.scenario import Scenario, ScenarioError, load_scenario, parse_scenario

VALID_YAML = """\
name: fuzz base
seed: 3
cluster:
  nodes: [n1, n2]
  adapter: redis
latency: {client_ms: 5, adapter_ms: 1}
clients:
  - {name: alice, node: n1, rooms: [lobby]}
  - name: bob
    node: n2
    connect_at: 5
    namespace: /
timeline:
  - {at: 10, join: {client: alice, rooms: [room1, room2]}}
  - {at: 12, leave: {client: alice, rooms: room2}}
  - at: 20
    emit: {id: m1, from: n1, to: [room1], except: [bob], event: news, data: {x: [1, 2.5, null]}}
  - {at: 30, emit: {from: alice, broadcast: true, local: false, event: chat}}
  - at: 40
    disconnect: {client: bob, reason: transport close}
  - {at: 50, connect: {client: bob, node: n1, rooms: [lobby]}}
until: 100
"""
VALID_JSON = json.dumps(yaml.safe_load(VALID_YAML), indent=2)
GROUPS_YAML = """\
seed: 4
cluster: {nodes: 3}
clients:
  - {name: alice, node: n1, rooms: [lobby]}
groups:
  - prefix: user
    count: 20
    nodes: [n1, n2]
    assign: random
    connect_at: 2
    namespace: /
    rooms: {prefix: room, count: 5, per_client: [1, 3], pick: random}
    seed: 9
  - {prefix: bot, count: 4, assign: block, rooms: {prefix: desk, count: 2, pick: block}}
timeline:
  - {at: 10, join: {client: user3, rooms: [lobby]}}
  - {at: 20, emit: {from: bot2, to: [room1, user5], except: alice, event: news}}
  - {at: 30, disconnect: {client: user20}}
  - {at: 40, connect: {client: user20, node: n3}}
"""
GROUPS_JSON = json.dumps(yaml.safe_load(GROUPS_YAML), indent=2)
BASES = [
    ("s.yaml", VALID_YAML),
    ("s.json", VALID_JSON),
    ("s.yaml", GROUPS_YAML),
    ("s.json", GROUPS_JSON),
]

KEYS = [
    "name", "seed", "cluster", "nodes", "adapter", "latency", "client_ms", "adapter_ms",
    "clients", "node", "rooms", "connect_at", "namespace", "timeline", "at", "join",
    "leave", "emit", "disconnect", "connect", "id", "from", "to", "except", "event",
    "data", "broadcast", "local", "reason", "client", "until", "nodee", "from_", "index", "<<",
    "groups", "prefix", "count", "assign", "per_client", "pick",
]  # fmt: skip
LITERALS = [
    "null", "~", "true", "no", "-1", "0", "1e999", "-.inf", ".nan", "NaN", "Infinity",
    "0x" + "f" * 40, "1" + "0" * 5000, "2024-13-45", "2024-01-01", "'a b'", '"\\ud800"',
    "[]", "{}", "[[[[", "}}", "&a", "*a", "*zz", "!!binary aGk=", "!!set {a}", "!foo x",
    "? [a]", "<<: 3", "|", ">-", "- -", ": :", "\t", "\\", '"', "'", "#", "%YAML 1.1",
    "---", "...", "\x00", "\x07", "\ufeff", "\u2028", "é", "🙂",
]  # fmt: skip
ATOMS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from(KEYS),
)
VALUES = st.recursive(
    ATOMS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(data: Any, here: tuple = ()) -> list[tuple]:
    """Every location inside ``data``."""
    found = [here]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*here, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _paths(value, (*here, i))
    return found


@st.composite
def mutated_data(draw: st.DrawFn, data: Any) -> Any:
    """The valid scenario with a few keys or values deleted, copied, renamed or swapped."""
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(data)))
        if not path:
            data = draw(VALUES)
            continue
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        how = draw(st.sampled_from(["delete", "duplicate", "rename", "swap"]))
        if how == "delete":
            del parent[last]
        elif how == "duplicate" and isinstance(parent, list):
            parent.insert(last, parent[last])
        elif how == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = parent.pop(last)
        else:
            parent[last] = draw(VALUES)
    return data


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> str:
    """The text with characters, lines, keys or values deleted, copied or changed."""
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        end = draw(st.integers(at, min(len(text), at + 40)))
        lines = text.splitlines(keepends=True) or [""]
        line = draw(st.integers(0, len(lines) - 1))
        how = draw(
            st.sampled_from(
                ["delete", "duplicate", "insert", "literal", "key", "line-", "line+", "swap", "cut"]
            )
        )
        if how == "delete":
            text = text[:at] + text[end:]
        elif how == "duplicate":
            text = text[:end] + text[at:end] + text[end:]
        elif how == "insert":
            text = text[:at] + draw(st.text(max_size=6)) + text[at:]
        elif how == "literal":
            text = text[:at] + draw(st.sampled_from(LITERALS)) + text[end:]
        elif how == "key":
            words = [m for m in re.finditer(r"[A-Za-z_]+", text)] or [None]
            word = draw(st.sampled_from(words))
            if word is not None:
                text = text[: word.start()] + draw(st.sampled_from(KEYS)) + text[word.end() :]
        elif how == "line-":
            text = "".join(lines[:line] + lines[line + 1 :])
        elif how == "line+":
            text = "".join(lines[: line + 1] + lines[line:])
        elif how == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[line], lines[other] = lines[other], lines[line]
            text = "".join(lines)
        else:
            text = text[:at]
    return text


@st.composite
def mangled_file(draw: st.DrawFn) -> tuple[str, str | bytes]:
    """A file name and a mangled content, starting from a valid YAML or JSON file."""
    name, text = draw(st.sampled_from(BASES))
    if draw(st.booleans()):
        data = draw(mutated_data(yaml.safe_load(text)))
        if name.endswith(".json"):
            text = json.dumps(data, indent=draw(st.sampled_from([None, 1, "\t"])))
        else:
            text = yaml.safe_dump(
                data, default_flow_style=draw(st.sampled_from([None, False, True]))
            )
    text = draw(mutated_text(text))
    if draw(st.integers(0, 9)) == 0:
        return name, text.encode("utf-8", "surrogatepass") + draw(st.binary(max_size=4))
    return name, text


def outcome(content: str | bytes, path: str) -> Scenario | ScenarioError:
    """Load, returning the Scenario or the ScenarioError (anything else escapes)."""
    try:
        return parse_scenario(content, path)
    except ScenarioError as err:
        return err


def assert_loaded_or_one_line(result: Scenario | ScenarioError, path: str) -> None:
    if isinstance(result, ScenarioError):
        message = str(result)
        assert "\n" not in message, message
        assert message.startswith(f"{path}:"), message
        return
    assert isinstance(result, Scenario)
    ids = [step.emit.id for step in result.timeline if step.emit is not None]
    assert all(ids) and len(set(ids)) == len(ids)
    assert [step.index for step in result.timeline] == list(range(len(result.timeline)))
    if result.client_count <= 10_000:  # the groups expand, to unique names
        names = [client.name for client in result.all_clients()]
        assert len(names) == len(set(names)) == result.client_count


FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_the_valid_bases_load() -> None:
    """The fuzz starts from valid files that mean the same thing (one of them with groups)."""
    assert parse_scenario(VALID_YAML, "s.yaml") == parse_scenario(VALID_JSON, "s.json")
    with_groups = parse_scenario(GROUPS_YAML, "s.yaml")
    assert with_groups == parse_scenario(GROUPS_JSON, "s.json")
    assert with_groups.client_count == len(with_groups.all_clients()) == 25


@pytest.mark.slow
@FUZZ
@given(mangled_file())
def test_mangled_files_load_or_give_one_line(file: tuple[str, str | bytes]) -> None:
    """A mangled scenario loads, or gives one ScenarioError line starting with the file name."""
    path, content = file
    assert_loaded_or_one_line(outcome(content, path), path)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["s.yaml", "s.json"]), st.binary(max_size=64) | st.text(max_size=64))
def test_random_content_gives_one_line(path: str, content: str | bytes) -> None:
    """Random bytes or unicode text: a ScenarioError line, never another exception."""
    assert_loaded_or_one_line(outcome(content, path), path)


@settings(max_examples=40, deadline=None)
@given(file=mangled_file())
def test_mangled_files_on_disk(
    tmp_path_factory: pytest.TempPathFactory, file: tuple[str, str | bytes]
) -> None:
    """load_scenario reads mangled files from disk with the same guarantee."""
    name, content = file
    path: Path = tmp_path_factory.getbasetemp() / name
    path.write_bytes(
        content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    )
    try:
        result: Scenario | ScenarioError = load_scenario(path)
    except ScenarioError as err:
        result = err
    assert_loaded_or_one_line(result, str(path))
