"""The command line's own documentation: ``--help``, ``--version``, ``python -m
roomsim``, the shipped examples, and the README's command table and exit codes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import roomsim
from roomsim.adapters import ADAPTERS
from roomsim.cli import main
from roomsim.draw_commands import KINDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    """Every (path, command) of the group, sub-groups included."""
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


COMMANDS = list(_commands(main))


def invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), prog_name="roomsim")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_and_option_has_help(path: tuple[str, ...], command: click.Command) -> None:
    """Each command has a one-line summary, and each of its options a description."""
    assert (command.help or "").strip(), f"roomsim {' '.join(path)} has no help"
    for param in command.params:
        if isinstance(param, click.Option):
            assert (param.help or "").strip(), f"roomsim {' '.join(path)} {param.opts[0]}: no help"
    result = invoke(*path, "--help")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: roomsim {' '.join(path)}")


def test_required_options_are_marked_and_choices_listed() -> None:
    """``draw`` needs --kind and --out, ``why`` --msg and --client: their help says
    so; --kind and --adapter list their choices as click does, the real lists."""
    draw = invoke("draw", "--help").output
    assert f"--kind [{'|'.join(KINDS)}]" in draw
    kinds = "delivery|timeline|outcomes|membership|latency|broker|load|utilisation|animation"
    assert f"[{kinds}]" in draw
    for command, options in (("draw", ("--kind", "--out")), ("why", ("--msg", "--client"))):
        params = {p.opts[0]: p for p in main.commands[command].params}
        for option in options:
            assert "[required]" in (params[option].help or ""), (command, option)
    generate = invoke("generate", "--help").output
    assert f"--adapter [{'|'.join(ADAPTERS)}]" in generate
    assert "[memory|redis|sharded-redis]" in generate
    compare = " ".join(invoke("compare", "--help").output.split())
    assert ", ".join(ADAPTERS) in compare


def test_a_choice_outside_the_list_is_still_one_line() -> None:
    """Listing the choices does not change the one-line error for a wrong --kind."""
    result = CliRunner().invoke(main, ["draw", "x.jsonl", "--kind", "pie", "--out", "x.png"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "roomsim: draw: --kind 'pie': expected one of " + ", ".join(KINDS)
    ]


def test_sweep_help_describes_the_spec_file() -> None:
    """``roomsim sweep --help`` names the spec's four keys and shows an example."""
    text = invoke("sweep", "--help").output
    for key in ("scenario", "grid", "seeds", "out"):
        assert re.search(rf"^\s+{key}\s+\S", text, re.M), key
    assert "cluster.nodes: [2, 4, 8]" in text and "seeds: 3" in text


def test_version_and_python_dash_m(tmp_path: Path) -> None:
    """``roomsim --version`` prints the package's version; ``python -m roomsim`` is
    the same command line."""
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output == f"roomsim, version {roomsim.__version__}\n"
    proc = subprocess.run(
        [sys.executable, "-m", "roomsim", "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: roomsim [OPTIONS] COMMAND")
    listed = proc.stdout.split("Commands:", 1)[1]
    assert [line.split()[0] for line in listed.splitlines() if line.startswith("  ")][
        : len(main.commands)
    ] == sorted(main.commands)


def test_shell_completion_works_as_documented() -> None:
    """The README's completion line is click's: the variable gives a bash script."""
    assert "_ROOMSIM_COMPLETE=bash_source roomsim" in README
    result = CliRunner().invoke(
        main, [], prog_name="roomsim", env={"_ROOMSIM_COMPLETE": "bash_source"}
    )
    assert "complete -o nosort -F _roomsim_completion roomsim" in result.output
    for words, expected in (
        ("roomsim draw x --kind t", "timeline"),
        ("roomsim examples copy q", "quickstart"),
    ):
        env = {
            "_ROOMSIM_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        }
        done = CliRunner().invoke(main, [], prog_name="roomsim", env=env)
        assert done.output.split() == [f"plain,{expected}"], words


def test_examples_lists_every_shipped_example_with_a_description() -> None:
    """``roomsim examples``: one line per example shipped in the package (every
    scenario of examples/), each with its description."""
    lines = invoke("examples").output.splitlines()
    names = [line.split()[0] for line in lines]
    shipped = sorted(p.stem for p in (ROOT / "roomsim" / "examples").glob("*.yaml"))
    assert [n for n in names if "/" not in n] == shipped
    assert "sizing/100_nodes_rooms_of_10" in names
    by_name = dict(line.split(None, 1) for line in lines)
    assert by_name["quickstart"] == "two rooms and a private message"
    assert all(text.strip() for text in by_name.values())


def test_examples_copy_writes_the_file_and_never_overwrites(tmp_path: Path) -> None:
    """``examples copy NAME DIR`` writes the file as shipped; a second copy, or an
    unknown name, is one line and exit 2, with the file unchanged."""
    result = invoke("examples", "copy", "disconnection", str(tmp_path))
    assert result.exit_code == 0, result.output
    target = tmp_path / "disconnection.yaml"
    assert target.read_bytes() == (ROOT / "examples" / "disconnection.yaml").read_bytes()
    assert invoke("run", str(target), "-q").exit_code == 0
    target.write_text("# mine\n")
    again = invoke("examples", "copy", "disconnection", str(tmp_path))
    assert again.exit_code == 2
    assert "already exists" in again.output and again.output.count("\n") == 1
    assert target.read_text() == "# mine\n"
    unknown = invoke("examples", "copy", "nope", str(tmp_path))
    assert unknown.exit_code == 2 and "no example 'nope'" in unknown.output


def _readme_table() -> dict[str, str]:
    """The README's command table: command name -> its row."""
    section = README.split("## The command line", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\| `roomsim ([a-z]+)", line)
        if match:
            rows[match.group(1)] = line
    return rows


def test_readme_command_table_matches_help() -> None:
    """Every command of ``roomsim --help`` has a row in the README's table and
    every row a command; every option a row names exists on that command."""
    rows = _readme_table()
    assert sorted(rows) == sorted(main.commands)
    for name, row in rows.items():
        command = main.commands[name]
        known = {opt for p in command.params for opt in p.opts + p.secondary_opts}
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", row.split("|")[1]):
            assert option in known, f"README: roomsim {name} {option} is not an option"


def test_readme_documents_the_exit_codes() -> None:
    """The README states the four exit statuses, as ``roomsim --help`` does."""
    section = README.split("### Exit status", 1)[1].split("\n#", 1)[0]
    for code, meaning in (
        ("0", "ok"),
        ("1", "check"),
        ("2", "bad input"),
        ("130", "interrupted"),
    ):
        assert re.search(rf"\|\s*`?{code}`?\s*\|[^\n]*{meaning}", section), code
    assert "130 interrupted" in invoke("--help").output


def test_the_sweep_spec_doc_example_loads(tmp_path: Path) -> None:
    """docs/sweep.md's example spec is a spec ``roomsim sweep`` accepts, and it
    names the same four keys as ``roomsim sweep --help``."""
    from roomsim.generate import generate_scenario, write_scenario
    from roomsim.sweep import expand_grid, load_sweep_spec

    doc = (ROOT / "docs" / "sweep.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", doc, re.S).group(1)  # type: ignore[union-attr]
    write_scenario(
        generate_scenario(clients=4, nodes=2, rooms=3, room_emits=1), tmp_path / "big.json"
    )
    (tmp_path / "spec.yaml").write_text(example)
    plan = load_sweep_spec(tmp_path / "spec.yaml")
    assert len(expand_grid(plan.grid, plan.seeds)) == 18  # as the doc counts
    keys = re.findall(r"^\| `(\w+)` \|", doc, re.M)
    assert keys == ["scenario", "grid", "seeds", "out"]
    text = invoke("sweep", "--help").output
    assert all(re.search(rf"^\s+{key}\s", text, re.M) for key in keys)


def test_the_wheel_ships_every_example_and_no_golden_trace() -> None:
    """pyproject's package data for roomsim.examples covers every scenario that
    ``roomsim examples`` lists, and the golden traces are left out of the wheel."""
    import fnmatch

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = config["package-data"]["roomsim.examples"]
    folder = ROOT / "roomsim" / "examples"
    files = [
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.suffix in (".yaml", ".json", ".jsonl")
    ]
    shipped = {f for f in files if any(fnmatch.fnmatch(f, pat) for pat in patterns)}
    from roomsim import examples

    assert {examples.path(n).name for n in examples.names()} == {Path(f).name for f in shipped}
    assert not any(f.startswith("golden/") for f in shipped)
    assert config["exclude-package-data"]["roomsim.examples"] == ["golden/*"]
