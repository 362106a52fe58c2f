"""The ``roomsim real`` and ``roomsim diff`` commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

__all__ = ["diff", "real"]


def _fail(message: str) -> NoReturn:
    click.echo(f"roomsim: {message}", err=True)
    sys.exit(2)


def _scenario(file: Path) -> object:
    from roomsim.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(file)
    except ScenarioError as err:
        _fail(str(err))


def _records(path: Path) -> list[dict[str, object]]:
    import json

    records = []
    try:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    _fail(f"{path}:{number}: not a trace line (JSON expected)")
                if not isinstance(record, dict) or "kind" not in record:
                    _fail(f"{path}:{number}: not a trace record (an object with 'kind' expected)")
                records.append(record)
    except OSError as err:
        _fail(f"{path}: cannot read the trace ({err.strerror})")
    return records


@click.command()
@click.argument("file", type=click.Path(path_type=Path), required=False)
@click.option(
    "--trace",
    "trace_path",
    type=click.Path(path_type=Path),
    help="Write the real run's records to this JSON Lines file.",
)
@click.option(
    "--timed",
    is_flag=True,
    help="Play each step at its scenario time, with the scenario's latencies injected.",
)
@click.option(
    "--scale",
    type=click.FloatRange(min=1.0),
    help="With --timed: real ms per scenario ms (default: enough for the machine's jitter).",
)
@click.option(
    "--compare",
    is_flag=True,
    help="Also run the simulation and show how the two runs differ (exit 1 if they do).",
)
@click.option(
    "--settle-ms",
    type=click.FloatRange(min=1.0),
    default=40.0,
    show_default=True,
    help="Sequential runs: how long nothing must move before the next step.",
)
@click.option("--install", "do_install", is_flag=True, help="Install the Node packages (npm ci).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors and differences.")
def real(
    file: Path | None,
    trace_path: Path | None,
    timed: bool,
    scale: float | None,
    compare: bool,
    settle_ms: float,
    do_install: bool,
    quiet: bool,
) -> None:
    """Play scenario FILE on the real Socket.IO: Node.js servers, Redis, real clients.

    One Node.js process per cluster node, a redis-server on a free loopback
    port (started and stopped here), and real socket.io-client clients.  It
    needs Node.js 18+ and, for the Redis adapters, redis-server on PATH.
    """
    from roomsim.real.tools import install, missing

    if do_install:
        problem = install(quiet=quiet)
        if problem:
            _fail(problem)
        if not quiet:
            click.echo("installed the Node packages of roomsim real")
        if file is None:
            return
    if file is None:
        _fail("real: give a scenario FILE (or --install)")
    scenario = _scenario(file)
    from roomsim.real.procs import RealError
    from roomsim.real.runner import Unplayable, playable, run_real

    try:
        playable(scenario, timed=timed)  # type: ignore[arg-type]
    except Unplayable as err:
        _fail(f"{file}: {err}")
    adapter = scenario.cluster.adapter  # type: ignore[attr-defined]
    lacking = missing(adapter, packages=False)
    if lacking is None and missing(adapter) is not None:
        problem = install(quiet=True)  # the first run installs the pinned packages
        if problem:
            _fail(problem)
    lacking = missing(adapter)
    if lacking:
        click.echo(lacking, err=True)
        sys.exit(2)

    if trace_path is not None:
        from roomsim.outputs import OutputError, check_target, refuse_inputs

        try:
            refuse_inputs([("--trace", trace_path)], [file])
            check_target(trace_path, "trace")
        except OutputError as err:
            _fail(str(err))
    try:
        result = run_real(
            scenario,  # type: ignore[arg-type]
            timed=timed,
            scale=scale,
            settle_ms=settle_ms,
            trace_path=trace_path,
        )
    except RealError as err:
        _fail(f"{file}: the real run failed: {err}")
    if not quiet:
        delivered = sum(1 for r in result.records if r["kind"] == "deliver")
        errors = sum(1 for r in result.records if r["kind"] == "error")
        mode = f"timed, scale {result.scale:g}" if timed else "sequential"
        click.echo(
            f"{scenario.name or file.name}: real Socket.IO, {adapter} adapter, {mode}: "  # type: ignore[attr-defined]
            f"{delivered} deliveries, {errors} errors"
        )
        if timed and result.lateness_ms:
            click.echo(f"lateness: at most {max(result.lateness_ms):.3g} ms (scenario ms)")
        if trace_path is not None:
            click.echo(f"wrote {trace_path}")
    if result.noisy:
        click.echo(f"warning: too noisy to trust: {result.noisy}", err=True)
    if compare:
        from roomsim.real.diff import diff_traces, format_diff
        from roomsim.runner import run_scenario

        sim = run_scenario(scenario)  # type: ignore[arg-type]
        races: list[str] = []
        lines = diff_traces(
            list(sim.trace), result.records, names=("simulated", "real"), races=races
        )
        for line in races:
            click.echo(f"accepted, a race: {line}")
        if lines:
            click.echo(f"{len(lines)} difference(s), simulated vs real:")
            click.echo(format_diff(lines))
            sys.exit(1)
        if not quiet:
            click.echo("the simulation and the real Socket.IO agree")


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Print only the differences.")
def diff(scenario: Path, a: Path, b: Path, quiet: bool) -> None:
    """Compare two traces A and B of SCENARIO: who got what, results, disconnections.

    Socket ids are replaced by client names; a drop and no delivery are the
    same outcome.  Exit status 1 when they differ.
    """
    from roomsim.real.diff import diff_traces, format_diff

    _scenario(scenario)
    races: list[str] = []
    lines = diff_traces(_records(a), _records(b), names=(a.name, b.name), races=races)
    for line in races:
        click.echo(f"accepted, a race: {line}")
    if lines:
        click.echo(f"{len(lines)} difference(s) between {a} and {b}:")
        click.echo(format_diff(lines))
        sys.exit(1)
    if not quiet:
        click.echo(f"{a} and {b} agree (deliveries, results, disconnections)")
