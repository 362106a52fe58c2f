"""The ``roomsim`` command line: ``run``, ``validate``, ``generate`` and ``sweep``.

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

#: runs with more records than this skip the checks unless --check is given
CHECK_LIMIT = 200_000


def _fail(message: str) -> NoReturn:
    click.echo(f"roomsim: {message}", err=True)
    sys.exit(2)


def _writable(path: Path, what: str) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        try:
            parent.mkdir(parents=True)
        except OSError as err:
            _fail(f"{path}: cannot write the {what}: cannot make {str(parent)!r} ({err.strerror})")
    if not parent.is_dir():
        _fail(f"{path}: cannot write the {what}: {str(parent)!r} is not a directory")
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
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors and violations.")
@click.option(
    "--check/--no-check",
    "run_checks",
    default=None,
    help="Check the trace against Socket.IO's guarantees (default: runs of up to "
    f"{CHECK_LIMIT:,} records).",
)
def run(
    file: Path,
    trace_path: Path | None,
    seed: int | None,
    out_dir: Path | None,
    quiet: bool,
    run_checks: bool | None,
) -> None:
    """Play scenario FILE, print a summary and check the result.

    Exit status 1 when the checks find a violation (at most once, order,
    delivery to a non-member, to the sender or to a disconnected socket, or
    a message lost silently).
    """
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
    if run_checks is False or (run_checks is None and len(trace) > CHECK_LIMIT):
        if not quiet and run_checks is None:
            click.echo(f"checks skipped: {len(trace):,} records (--check to run them)")
        return
    from roomsim.analysis.check import check
    from roomsim.analysis.delivery import delivery_summary, format_delivery_summary

    records = list(trace) if keep else list(Trace.read_jsonl(trace_path))  # type: ignore[arg-type]
    if not quiet:
        click.echo(format_delivery_summary(delivery_summary(records), cluster.adapter))
    violations = check(records, complete=scenario.until is None)
    if violations:
        click.echo(f"{len(violations)} violation(s):")
        for violation in violations[:50]:
            click.echo(f"  {violation}")
        sys.exit(1)
    if not quiet:
        click.echo("checks: ok (at most once, order, recipients, nothing lost silently)")


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
def validate(file: Path) -> None:
    """Check scenario FILE without running it."""
    try:
        scenario = load_scenario(file)
    except ScenarioError as err:
        _fail(str(err))
    click.echo(
        f"{file}: ok ({len(scenario.cluster.nodes)} nodes, {scenario.client_count} clients,"
        f" {len(scenario.timeline)} steps)"
    )


def _range(text: str) -> tuple[int, int]:
    lo, _, hi = text.partition("-")
    try:
        pair = (int(lo), int(hi or lo))
    except ValueError:
        raise click.BadParameter(f"expected N or LO-HI, got {text!r}") from None
    if not 0 <= pair[0] <= pair[1]:
        raise click.BadParameter(f"expected 0 <= LO <= HI, got {text!r}")
    return pair


@main.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--clients", type=click.IntRange(1), default=1000, show_default=True)
@click.option("--nodes", type=click.IntRange(1, 10_000), default=4, show_default=True)
@click.option(
    "--adapter",
    type=click.Choice(["memory", "redis"]),
    default=None,
    help="Default: memory for one node, redis for more.",
)
@click.option("--rooms", type=click.IntRange(1), default=100, show_default=True)
@click.option("--rooms-per-client", default="1-3", show_default=True, help="N or LO-HI.")
@click.option("--room-emits", type=click.IntRange(0), default=100, show_default=True)
@click.option("--broadcasts", type=click.IntRange(0), default=1, show_default=True)
@click.option("--client-ms", type=click.FloatRange(0), default=5.0, show_default=True)
@click.option("--adapter-ms", type=click.FloatRange(0), default=1.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def generate(
    out: Path,
    clients: int,
    nodes: int,
    adapter: str | None,
    rooms: int,
    rooms_per_client: str,
    room_emits: int,
    broadcasts: int,
    client_ms: float,
    adapter_ms: float,
    seed: int,
) -> None:
    """Write a large scenario to OUT (.json, fast to read; else YAML)."""
    from roomsim.generate import expected_deliveries, generate_scenario, write_scenario

    per_client = _range(rooms_per_client)
    if per_client[1] > rooms:
        _fail(f"--rooms-per-client {rooms_per_client}: more than the {rooms} rooms")
    _writable(out, "scenario")
    scenario = generate_scenario(
        clients=clients,
        nodes=nodes,
        adapter=adapter,
        rooms=rooms,
        rooms_per_client=per_client,
        room_emits=room_emits,
        broadcasts=broadcasts,
        client_ms=client_ms,
        adapter_ms=adapter_ms,
        seed=seed,
    )
    write_scenario(scenario, out)
    expected = expected_deliveries(clients, rooms, per_client, room_emits, broadcasts)
    click.echo(
        f"wrote {out}: {clients} clients, {len(scenario['timeline'])} emits,"
        f" about {expected:,.0f} deliveries"
    )


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--scheduler", help="Address of a running Dask scheduler (default: a local cluster).")
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    help="Results table (.csv or .parquet); default: the spec's 'out'.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def sweep(spec: Path, scheduler: str | None, out_path: Path | None, quiet: bool) -> None:
    """Run the grid x seeds of sweep SPEC in parallel and write one results table."""
    from roomsim.sweep import SweepSpecError, load_sweep_spec
    from roomsim.sweep import sweep as run_sweep

    try:
        plan = load_sweep_spec(spec)
    except (SweepSpecError, ScenarioError) as err:
        _fail(str(err))
    out_path = out_path or plan.out
    if out_path is None:
        _fail(f"{spec}: out: give a results file here or with --out")
    if out_path.suffix not in (".csv", ".parquet"):
        _fail(f"{out_path}: expected a results file ending in .csv or .parquet")
    _writable(out_path, "results")
    table = run_sweep(
        plan.scenario, plan.grid, plan.seeds, scheduler=scheduler, progress=False if quiet else None
    )
    if out_path.suffix == ".parquet":
        table.to_parquet(out_path, index=False)
    else:
        table.to_csv(out_path, index=False)
    if not quiet:
        click.echo(f"wrote {out_path}: {len(table)} runs")


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--adapters",
    default="redis,sharded-redis",
    show_default=True,
    help="Comma-separated adapters to compare.",
)
@click.option("--seed", type=int, help="Override the scenario's seed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object keyed by adapter.")
def compare(file: Path, adapters: str, seed: int | None, as_json: bool) -> None:
    """Run scenario FILE on each adapter and show the costs side by side."""
    import json

    from roomsim.adapters import ADAPTERS
    from roomsim.compare import compare_adapters, format_comparison

    names = [a.strip() for a in adapters.split(",") if a.strip()]
    unknown = [a for a in names if a not in ADAPTERS]
    if not names or unknown:
        _fail(f"--adapters: expected names among {', '.join(ADAPTERS)}, got {adapters!r}")
    try:
        scenario = load_scenario(file)
    except ScenarioError as err:
        _fail(str(err))
    if "memory" in names and len(scenario.cluster.nodes) > 1:
        _fail(f"{file}: the memory adapter cannot join {len(scenario.cluster.nodes)} nodes")
    results = compare_adapters(scenario, names, seed=seed)
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        click.echo(format_comparison(results))
        if not all(r["same_deliveries"] for r in results.values()):
            click.echo("note: the adapters did not deliver the same messages to the same clients")


def _register_drawing_commands() -> None:
    from roomsim.draw_commands import draw, why

    main.add_command(draw)
    main.add_command(why)


_register_drawing_commands()


def _register_real_commands() -> None:
    from roomsim.real.commands import diff, real

    main.add_command(real)
    main.add_command(diff)


_register_real_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
