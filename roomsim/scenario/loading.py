"""Loading a scenario: from a file, a text or Python data, to a checked :class:`Scenario`."""

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from roomsim.scenario.bulk import gc_paused
from roomsim.scenario.document import Scenario
from roomsim.scenario.errors import LineOf, ScenarioError, first_problem, show
from roomsim.scenario.models import FILE_KEYS
from roomsim.scenario.reading import read_json, read_yaml

__all__ = ["load_scenario", "parse_scenario", "scenario_from_dict"]


def _alone(fn: Callable[..., Scenario]) -> Callable[..., Scenario]:
    """Raise a ScenarioError without the parser's or pydantic's error behind it.

    The one line says everything; dropping the chained error also lets the
    error travel between processes (a sweep's workers) as plain data.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Scenario:
        try:
            return fn(*args, **kwargs)
        except ScenarioError as err:
            problem = err
        problem.__cause__ = problem.__context__ = None
        problem.__traceback__ = None
        raise problem

    return wrapper


@_alone
def parse_scenario(text: str | bytes, path: str = "<string>") -> Scenario:
    """Read a scenario from its text.

    Parameters
    ----------
    text : str or bytes
        The file's content (bytes are decoded as UTF-8).
    path : str
        The file name shown in errors; a name ending in ``.json`` is read as
        strict JSON, anything else as YAML.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        With a one-line message naming the file, the line and the key.

    Examples
    --------
    >>> sc = parse_scenario('''
    ... cluster: {nodes: 2}
    ... clients: [{name: alice, node: n1, rooms: lobby}]
    ... timeline:
    ...   - {at: 5, emit: {from: alice, to: lobby, event: hi}}
    ... ''')
    >>> sc.cluster.nodes, sc.cluster.adapter
    (['n1', 'n2'], 'redis')
    >>> step = sc.timeline[0]
    >>> step.action, step.emit.id, step.emit.to, step.emit.sender_is_client
    ('emit', 'm1', ['lobby'], True)
    >>> parse_scenario("cluster: {nodes: 1}\\nclients: [{name: a, nod: n1}]", "x.yaml")
    Traceback (most recent call last):
    ...
    roomsim.scenario.ScenarioError: x.yaml:2: clients[0].nod: unknown key 'nod' ...
    """
    path = str(path)
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ScenarioError(path, "not a text file (UTF-8 expected)") from None
    if "\x00" in text:
        raise ScenarioError(path, "not a text file (UTF-8 expected)")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ScenarioError(path, "the file is empty")
    read = read_json if path.lower().endswith(".json") else read_yaml
    with gc_paused():
        data, line_of = read(text, path)
        return _validate(data, path, line_of)


@_alone
def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read a scenario file (YAML, or strict JSON when the name ends in ``.json``).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        When the file is missing, unreadable, not UTF-8 text, empty or invalid.
    """
    shown = os.fsdecode(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ScenarioError(shown, "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(shown, "is a directory, not a file") from None
    except PermissionError:
        raise ScenarioError(shown, "permission denied") from None
    except OSError as exc:
        reason = f"cannot read the file ({exc.strerror or exc})"
        raise ScenarioError(shown, reason) from None
    return parse_scenario(raw, shown)


@_alone
def scenario_from_dict(data: dict[str, Any], path: str = "<dict>") -> Scenario:
    """Validate a scenario given as Python data, with the keys of a file.

    Parameters
    ----------
    data : dict
        The scenario as a YAML or JSON file gives it (``"from"``, ``"except"``).
    path : str
        The name shown in errors.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        As for a file, without a line number.
    """
    return _validate(data, str(path), lambda loc: None)


def _validate(data: Any, path: str, line_of: LineOf) -> Scenario:
    """Validate file data, or raise the problem met first in the file."""
    if not isinstance(data, dict):
        reason = f"expected a mapping at the top level, got {show(data)}"
        raise ScenarioError(path, reason, line_of(()))
    try:
        return Scenario.model_validate(data, context={FILE_KEYS: True})
    except ValidationError as exc:
        raise first_problem(exc, data, path, line_of, Scenario) from None
    except ValueError as exc:  # pydantic refusing a 5,000-digit number as a name
        raise ScenarioError(path, f"cannot read a value ({exc})") from None
