"""Scenario files: what to simulate, validated before any simulation starts.

A scenario is a YAML file, or a strict JSON file when its name ends in
``.json`` (format version 1, ``scenario-format.md``). :func:`load_scenario`
and :func:`parse_scenario` turn it into a :class:`Scenario` of plain data, or
raise a :class:`ScenarioError` whose text is one line naming the file, the
line and the key::

    x.yaml:7: clients[1].nodee: unknown key 'nodee' (did you mean 'node'?)

The error holds every problem of the file (``err.problems``, in line
order); a loaded scenario's ``warnings`` say what is legal but most likely
a slip (a misspelt room, as a :class:`ScenarioWarning`).

Reading is bounded (see ``docs/safety.md``): a file is a regular file of at
most 256 MiB, its aliases stand for at most 1,000,000 values, only plain YAML
values are read (never a ``!!python`` tag), and times, latencies and group
sizes have limits that keep every run finite and within memory.

Values are checked by pydantic (fast, even for 100,000 clients); its errors
are then put in plain words from the :class:`~roomsim.scenario.errors.Expect`
marker of each field.

The modules, each owning one idea:

- :mod:`~roomsim.scenario.values`: names, times, namespaces (value types);
- :mod:`~roomsim.scenario.models`: the parts (cluster, clients, steps);
- :mod:`~roomsim.scenario.groups`: client groups, many clients declared by a rule;
- :mod:`~roomsim.scenario.document`: the whole scenario and the checks across parts;
- :mod:`~roomsim.scenario.errors`: :class:`ScenarioError`, pydantic's errors in one line;
- :mod:`~roomsim.scenario.reading`: YAML and JSON text to data, with line numbers;
- :mod:`~roomsim.scenario.loading`: the public functions that load a scenario;
- :mod:`~roomsim.scenario.hints`: warnings about a valid scenario (a misspelt room).
"""

from roomsim.scenario.document import Scenario
from roomsim.scenario.errors import ScenarioError, ScenarioWarning
from roomsim.scenario.groups import ClientGroup, GroupRooms
from roomsim.scenario.loading import load_scenario, parse_scenario, scenario_from_dict
from roomsim.scenario.models import (
    ClientSpec,
    ClusterSpec,
    ConnectStep,
    DisconnectStep,
    EmitStep,
    JoinStep,
    LatencySpec,
    LeaveStep,
    Step,
)
from roomsim.scenario.values import DISCONNECT_REASONS, NAME_PATTERN, RESERVED_EVENTS

__all__ = [
    "DISCONNECT_REASONS",
    "NAME_PATTERN",
    "RESERVED_EVENTS",
    "ClientGroup",
    "ClientSpec",
    "ClusterSpec",
    "ConnectStep",
    "DisconnectStep",
    "EmitStep",
    "GroupRooms",
    "JoinStep",
    "LatencySpec",
    "LeaveStep",
    "Scenario",
    "ScenarioError",
    "ScenarioWarning",
    "Step",
    "load_scenario",
    "parse_scenario",
    "scenario_from_dict",
]
