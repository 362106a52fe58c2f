"""The README's examples do what the README says, as a reader would use them."""

from __future__ import annotations

import code
import re
from pathlib import Path

from click.testing import CliRunner

from roomsim.cli import main
from roomsim.scenario import parse_scenario

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(language: str, after: str) -> str:
    """The first fenced ``language`` block after the heading ``after``."""
    text = README.split(after, 1)[1]
    match = re.search(rf"```{language}\n(.*?)```", text, re.S)
    assert match, (language, after)
    return match.group(1)


class _Console(code.InteractiveConsole):
    """A plain Python REPL that keeps what it would print."""

    def __init__(self) -> None:
        super().__init__(locals={"__name__": "__console__"})
        self.errors: list[str] = []
        self.shown: list[str] = []

    def write(self, data: str) -> None:  # tracebacks and syntax errors
        self.errors.append(data)


def test_python_example_survives_being_pasted_into_a_repl(capsys) -> None:
    """The README's Python block, fed line by line to a plain REPL (where a blank
    line ends a block), runs without an error and shows the deliveries."""
    console = _Console()
    lines = _block("python", "## Python").splitlines()
    for line in [*lines, ""]:
        console.push(line)
    assert console.errors == []
    shown = capsys.readouterr().out
    # the last line is an expression: the REPL prints the set of (msg, client) pairs
    pairs = eval(shown.strip().splitlines()[-1])
    sim = console.locals["sim"]
    assert pairs == sim.trace.deliveries()
    # alice's private message reached bob, through the handler on alice's node
    private = {msg for msg, client in pairs if client == "bob"}
    assert any(r["event"] == "private message" for r in sim.trace.records("emit")) and private


def test_a_blank_line_inside_a_block_would_be_caught() -> None:
    """The paste check is not vacuous: a blank line inside a nested block breaks
    the REPL, as it would for a reader."""
    console = _Console()
    for line in ["def f():", "    x = 1", "", "    return x", ""]:
        console.push(line)
    assert any("IndentationError" in e for e in console.errors)


def test_what_a_run_looks_like_is_what_run_prints() -> None:
    """The README's sample output is exactly ``roomsim run examples/quickstart.yaml``."""
    block = _block("text", "## What a run looks like").splitlines()
    command, expected = block[0], block[1:]
    assert command == "$ roomsim run examples/quickstart.yaml"
    result = CliRunner().invoke(main, ["run", str(ROOT / "examples" / "quickstart.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == expected


def test_scenario_snippet_is_a_valid_scenario() -> None:
    """The README's YAML scenario loads, and plays as its comment says: bob gets
    alice's chat message, alice (the sender) does not."""
    from roomsim.runner import run_scenario

    scenario = parse_scenario(_block("yaml", "## Scenario files"))
    assert run_scenario(scenario).trace.deliveries() == {("m1", "bob")}


def test_disconnection_example_says_its_error_record_is_the_lesson() -> None:
    """examples/disconnection.yaml's comment names its one ``error`` record (the
    join of a disconnected client) as the lesson, at the time the run has it."""
    from roomsim.runner import run_scenario
    from roomsim.scenario import load_scenario

    path = ROOT / "examples" / "disconnection.yaml"
    comment = " ".join(
        line.lstrip("# ") for line in path.read_text().splitlines() if line.startswith("#")
    )
    assert "The lesson is the 'error' record at t=70" in comment
    errors = list(run_scenario(load_scenario(path)).trace.records("error"))
    assert [(e["t"], e["action"]) for e in errors] == [(70, "join")]
