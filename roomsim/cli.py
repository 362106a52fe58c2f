"""The ``roomsim`` command line: ``run`` and ``validate`` a scenario file.

Bad input gets one line (file, line, key, what was expected) on stderr and
exit status 2, with nothing written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from roomsim.scenario import ScenarioError, load_scenario

__all__ = ["main"]


def _fail(message: str) -> NoReturn:
    click.echo(f"roomsim: {message}", err=True)
    sys.exit(2)


def _writable(path: Path, what: str) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        _fail(f"{path}: cannot write the {what}: no directory {str(parent)!r}")
    if path.is_dir():
        _fail(f"{path}: cannot write the {what}: it is a directory")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="roomsim")
def main() -> None:
    """Simulate Socket.IO rooms on one node or a cluster, from a scenario file."""


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--trace",
    "trace_path",
    type=click.Path(path_type=Path),
    help="Write every record to this JSON Lines file.",
)
@click.option("--seed", type=int, help="Override the scenario's seed.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Write pictures of the run into this directory.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def run(
    file: Path,
    trace_path: Path | None,
    seed: int | None,
    out_dir: Path | None,
    quiet: bool,
) -> None:
    """Play scenario FILE and print a summary."""
    from roomsim.runner import run_scenario
    from roomsim.summary import summarize
    from roomsim.trace import Trace

    try:
        scenario = load_scenario(file)
    except ScenarioError as err:
        _fail(str(err))
    if trace_path is not None:
        _writable(trace_path, "trace")
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        _fail(f"{out_dir}: cannot write pictures there: it is not a directory")
    keep = out_dir is not None or trace_path is None
    trace = Trace(trace_path, keep=keep)
    try:
        cluster = run_scenario(scenario, seed=seed, trace=trace, progress=False if quiet else None)
    except BaseException:
        trace.abort()
        raise
    trace.close()
    if not quiet:
        click.echo(
            summarize(
                trace.tally,
                title=scenario.name or file.name,
                nodes=cluster.nodes,
                adapter=cluster.adapter,
                seed=cluster.seed,
            )
        )
    if out_dir is not None:
        from roomsim.drawing import save_overview

        out_dir.mkdir(parents=True, exist_ok=True)
        written = save_overview(trace, out_dir, title=scenario.name or file.stem)
        if not quiet:
            for path in written:
                click.echo(f"wrote {path}")
    if trace_path is not None and not quiet:
        click.echo(f"wrote {trace_path}")


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
def validate(file: Path) -> None:
    """Check scenario FILE without running it."""
    try:
        scenario = load_scenario(file)
    except ScenarioError as err:
        _fail(str(err))
    click.echo(
        f"{file}: ok ({len(scenario.cluster.nodes)} nodes, {len(scenario.clients)} clients,"
        f" {len(scenario.timeline)} steps)"
    )


if __name__ == "__main__":  # pragma: no cover
    main()
