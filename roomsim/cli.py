"""The ``roomsim`` command line: ``run``, ``check``, ``validate``, ``generate``, ``sweep``, ...

Bad input gets one line (file, line, key, what was expected) on stderr and
exit status 2, with nothing written.  Exit statuses: 0 done, 1 a check
found a violation, 2 bad input or an output that cannot be written, 130
stopped by Ctrl-C (SIGINT), 143 stopped by SIGTERM; a stopped command says
where it stopped and removes its temporary files.  ``python -m roomsim`` is
the same command (:mod:`roomsim.__main__`).
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import click

from roomsim import __version__
from roomsim._gc import for_process
from roomsim.adapters import ADAPTERS
from roomsim.outputs import Output, OutputError, check_folder, check_target, refuse_inputs
from roomsim.scenario import ScenarioError, load_scenario

__all__ = ["main"]


def _fail(message: str) -> NoReturn:
    click.echo(f"roomsim: {message}", err=True)
    sys.exit(2)


def _fail_scenario(err: ScenarioError, max_errors: int = 20) -> NoReturn:
    """Every problem of a scenario (the first ``max_errors``; 0 for all), one line each."""
    problems = err.problems if max_errors <= 0 else err.problems[:max_errors]
    for problem in problems:
        click.echo(f"roomsim: {problem}", err=True)
    if err.total > 1:
        from roomsim.summary import plural

        line = f"roomsim: found {plural(err.total, 'error')}"
        if len(problems) < len(err.problems):
            line += f"; {err.total - len(problems):,} not shown (--max-errors 0 for more)"
        elif err.total > len(problems):
            line += f"; {err.total - len(problems):,} not shown (the first {len(problems):,} are)"
        click.echo(line, err=True)
    sys.exit(2)


def _warn_scenario(warnings: Iterable[Any]) -> None:
    """The scenario's warnings (legal, most likely a slip), one line each on stderr."""
    for warning in warnings:
        click.echo(f"roomsim: warning: {warning}", err=True)


_MAX_ERRORS = click.option(
    "--max-errors",
    type=click.IntRange(0),
    default=20,
    show_default=True,
    metavar="N",
    help="Show at most N of a bad scenario's errors (0: every one).",
)


class Stopped(BaseException):
    """SIGTERM, raised where the program is so that every temporary file is removed."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Stopped


@contextlib.contextmanager
def _stoppable(where: Callable[[], str]) -> Iterator[None]:
    """Turn Ctrl-C and SIGTERM into one line saying ``where()``, exit 130 or 143."""
    try:
        yield
    except (KeyboardInterrupt, Stopped) as stop:
        name, status = ("SIGTERM", 143) if isinstance(stop, Stopped) else ("Ctrl-C", 130)
        click.echo(f"roomsim: stopped by {name} {where()}", err=True)
        sys.exit(status)


class _Main(click.Group):
    """The command group: SIGTERM handled like Ctrl-C; an unwritable output is one line."""

    def invoke(self, ctx: click.Context) -> Any:
        previous = None
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            with _stoppable(lambda: f"during roomsim {ctx.invoked_subcommand or ''}".rstrip()):
                return super().invoke(ctx)
        except OutputError as err:
            _fail(str(err))
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def _said(paths: list[str]) -> str:
    return "written: " + (", ".join(paths) if paths else "nothing")


_EPILOG = """\b
Exit status: 0 ok; 1 a check failed; 2 bad input or an unusable path;
130 interrupted (Ctrl-C); 143 stopped by SIGTERM.
\b
Shell completion (bash; zsh and fish likewise):
  eval "$(_ROOMSIM_COMPLETE=bash_source roomsim)"
"""


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EPILOG)
@click.version_option(__version__, "--version", "-V", prog_name="roomsim")
def main() -> None:
    """Simulate Socket.IO rooms on one node or a cluster, from a scenario file.

    Start with `roomsim examples copy quickstart .` then `roomsim run quickstart.yaml`.
    """


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--trace",
    "trace_path",
    type=click.Path(path_type=Path),
    help="Write every record to this file: JSON Lines, or Parquet when it ends in .parquet"
    " (the 'parquet' extra).",
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
    default=True,
    show_default=True,
    help="Check the trace against Socket.IO's guarantees (in one pass, any size).",
)
@click.option(
    "--full",
    is_flag=True,
    help="Show every node's row (a summary of more than 20 nodes shows min, median, max"
    " and the busiest nodes).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the summary's figures as one JSON object (the 'wrote' lines go to stderr).",
)
@_MAX_ERRORS
@click.option(
    "--summary-json",
    "summary_json",
    type=click.Path(path_type=Path),
    help="Also write the summary's figures (latency per emit kind, loop utilisation)"
    " to this JSON file.",
)
def run(
    file: Path,
    trace_path: Path | None,
    seed: int | None,
    out_dir: Path | None,
    quiet: bool,
    run_checks: bool,
    full: bool,
    as_json: bool,
    max_errors: int,
    summary_json: Path | None = None,
) -> None:
    """Play scenario FILE, print a summary and check the result.

    Exit status 1 when the checks find a violation (at most once, order,
    delivery to a non-member, to the sender or to a disconnected socket, or
    a message lost silently).
    """
    from roomsim.loop import load_figures
    from roomsim.runner import run_scenario
    from roomsim.summary import format_summary, run_figures
    from roomsim.trace import Trace, format_time

    try:
        scenario = load_scenario(file)
    except ScenarioError as err:
        _fail_scenario(err, max_errors)
    if not quiet:
        _warn_scenario(scenario.warnings)
    wanted: list[tuple[str, Path | None]] = [
        ("--trace", trace_path),
        ("--summary-json", summary_json),
    ]
    if out_dir is not None:
        from roomsim.drawing.overview import OVERVIEW_FILES

        wanted += [("--out", out_dir)] + [("--out", out_dir / n) for n in OVERVIEW_FILES]
    written: list[str] = []
    try:
        refuse_inputs(wanted, [file])
        if out_dir is not None:
            check_folder(out_dir, "pictures")
        if trace_path is not None:
            check_target(trace_path, "trace")
        # the checks and latency figures are made as the run goes; only the
        # pictures need the records kept
        keep = out_dir is not None
        checks = _Checks(complete=scenario.until is None, checks=run_checks)
        trace = Trace(trace_path, keep=keep, sinks=[checks])
    except OutputError as err:
        _fail(f"{err}; {_said(written)}")
    except ImportError as err:
        _fail(f"{trace_path}: {err}")
    output = trace.output
    to_stdout = output is not None and output.how == "stdout"  # it carries the trace

    def echo(message: str) -> None:
        click.echo(message, err=to_stdout)

    def where() -> str:
        if phase == "run":
            at = f"at t={format_time(trace.tally.end_time)} ms of simulated time"
            return f"{at} ({len(trace):,} records); {_trace_fate(output, trace_path)}"
        return f"after the run, {phase}; {_said(written)}"

    phase = "run"
    with _stoppable(where):
        try:
            cluster = run_scenario(
                scenario, seed=seed, trace=trace, progress=False if quiet else None
            )
        except BaseException:
            trace.abort()
            raise
        phase = "writing the trace"
        trace_error = None
        try:
            trace.close()
            if trace_path is not None and output is not None and not to_stdout:
                written.append(str(trace_path))
        except OutputError as err:
            trace_error = err
        phase = "checking"
        delivery, found = checks.result()
        violations = found if run_checks else None
        picture_error = None
        if out_dir is not None:
            from roomsim.drawing import save_overview

            phase = "drawing the pictures"
            try:
                pictures = save_overview(
                    trace,
                    out_dir,
                    title=scenario.name or file.stem,
                    progress=False if quiet else None,
                )
                written += [str(p) for p in pictures]
            except OutputError as err:
                written += [str(p) for p in err.written]
                picture_error = err
        phase = "summing up"
        figures = run_figures(
            trace.tally,
            title=scenario.name or file.name,
            nodes=cluster.nodes,
            adapter=cluster.adapter,
            seed=cluster.seed,
            delivery=delivery,
            violations=violations,
            load=load_figures(cluster),
        )
        if summary_json is not None:
            import json

            try:
                with Output(summary_json, "summary") as summary_out:
                    summary_out.file.write(json.dumps(figures, indent=2) + "\n")
                written.append(str(summary_json))
            except OutputError as err:
                picture_error = picture_error or err
        if as_json:
            import json

            figures["wrote"] = list(written)
            echo(json.dumps(figures, indent=2))
        elif not quiet:
            echo(format_summary(figures, full=full))
        elif violations:
            echo(f"{len(violations):,} violation{'s' if len(violations) != 1 else ''}:")
            for violation in violations[:50]:
                echo(f"  {violation}")
        if not quiet:
            traced = [str(trace_path)] if str(trace_path) in written else []
            for path in [p for p in written if p not in traced] + traced:  # the trace last
                click.echo(f"wrote {path}", err=as_json or to_stdout)
        if trace_error is not None:
            _fail(f"{trace_error}; {_said(written)} (the summary above is the run's result)")
        if picture_error is not None:
            _fail(f"{picture_error}; {_said(written)}")
        if violations:
            sys.exit(1)


def _trace_fate(output: Output | None, path: Path | None) -> str:
    """What a stopped run left at its trace path."""
    if output is None:
        return "no trace asked for"
    if output.how != "atomic":
        return f"the trace written to {path} so far is incomplete"
    if output.replaces:
        return f"the trace was not written (the previous {path} is kept)"
    return f"the trace was not written (nothing at {path})"


def _check_pass(
    records: Iterable[dict[str, Any]], *, complete: bool, checks: bool = True, tally: Any = None
) -> tuple[dict[str, Any], list[Any]]:
    """The latency table's figures and every violation of ``records``, in one
    pass and bounded memory (and the running counts, into ``tally`` if given).
    ``roomsim run`` and ``roomsim check`` both use it."""
    sink = _Checks(complete=complete, checks=checks)
    for rec in records:
        sink.add(rec)
        if tally is not None:
            tally.add(rec)
    return sink.result()


class _Checks:
    """The latency table's figures and the checks, fed one record at a time."""

    def __init__(self, *, complete: bool, checks: bool = True) -> None:
        from roomsim.analysis.check import Checker
        from roomsim.analysis.delivery import DeliverySummary

        self.checker = Checker(complete) if checks else None
        self.summary = DeliverySummary()
        if self.checker is None:  # the figures only: deliveries counted in batches
            self.add = self.summary.add  # type: ignore[method-assign]
            self.add_deliveries = self.summary.add_deliveries
            self.add_relays = self.summary.add_relays  # type: ignore[method-assign]

    def add_relays(
        self, t: int | float, msg: str, nodes: list[str], channel: str, ignored: str
    ) -> None:
        self.checker.add_relays(t, msg, nodes, channel, ignored)  # type: ignore[union-attr]

    def add(self, rec: dict[str, Any]) -> None:
        self.summary.add(rec)
        self.checker.add(rec)  # type: ignore[union-attr]

    def result(self) -> tuple[dict[str, Any], list[Any]]:
        """The figures and every violation (call once, at the end)."""
        return self.summary.result(), (self.checker.finish() if self.checker else [])


def _check_records(
    records: Iterable[dict[str, Any]],
    *,
    complete: bool,
    checks: bool = True,
    adapter: str = "",
    quiet: bool = False,
    as_json: bool = False,
    title: str | None = None,
) -> int:
    """Print the latency table and every violation of ``records`` (one pass);
    return the number of violations.

    With ``as_json``, the figures of ``roomsim run --json`` that a trace
    holds (:func:`~roomsim.summary.run_figures`: the counts, the node rows,
    ``delivery`` and ``checks``), and ``violations`` as records.
    """
    import json

    from roomsim.analysis.delivery import format_delivery_summary

    if as_json:
        from roomsim.summary import run_figures
        from roomsim.trace import Tally

        tally = Tally()
        delivery, violations = _check_pass(records, complete=complete, checks=checks, tally=tally)
        figures = run_figures(
            tally,
            title=title,
            adapter=adapter or None,
            delivery=delivery,
            violations=violations if checks else None,
        )
        figures["violations"] = [v.as_dict() for v in violations]
        click.echo(json.dumps(figures, indent=2))
        return len(violations)
    delivery, violations = _check_pass(records, complete=complete, checks=checks)
    if not quiet:
        click.echo(format_delivery_summary(delivery, adapter))
    if violations:
        click.echo(f"{len(violations):,} violation{'s' if len(violations) != 1 else ''}:")
        for violation in violations:
            click.echo(f"  {violation}")
    elif checks and not quiet:
        click.echo("checks: ok (at most once, order, recipients, nothing lost silently)")
    return len(violations)


@main.command()
@click.argument("trace_file", metavar="TRACE", type=click.Path(path_type=Path, allow_dash=True))
@click.option(
    "--incomplete",
    is_flag=True,
    help="The run was stopped (by until): do not count messages still in flight as lost.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the figures as one JSON object: those of `run --json` a trace holds,"
    " and each violation as a record.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but violations.")
def check(trace_file: Path, incomplete: bool, as_json: bool, quiet: bool) -> None:
    """Check saved trace TRACE (JSON Lines or .parquet, - for standard input) against
    Socket.IO's guarantees and print its latency table.

    Each violation is one line: time, rule, message, client and what happened.
    Exit status 0 when there is none, 1 when there is one, 2 when TRACE
    cannot be read as a trace.
    """
    from roomsim.analysis.jsonl import TraceFileError, TraceReader

    reader = TraceReader(trace_file)
    try:
        found = _check_records(
            reader,
            complete=not incomplete,
            quiet=quiet,
            as_json=as_json,
            title="-" if str(trace_file) == "-" else trace_file.name,
        )
    except TraceFileError as err:
        _fail(str(err))
    except (KeyError, TypeError, AttributeError) as err:
        key = err.args[0] if isinstance(err, KeyError) and err.args else None
        what = f"it has no {key!r}" if key is not None else "a key has a value of the wrong type"
        _fail(f"{reader.where()}: not a trace record: {what}")
    if found:
        sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@_MAX_ERRORS
def validate(file: Path, max_errors: int) -> None:
    """Check scenario FILE without running it.

    Every error is one line, in line order (file:line: key: problem), on
    stderr, exit status 2; warnings (a room nobody joins whose name is close
    to one that is joined) are lines too, and leave the exit status 0.
    """
    try:
        scenario = load_scenario(file)
    except ScenarioError as err:
        _fail_scenario(err, max_errors)
    _warn_scenario(scenario.warnings)
    from roomsim.summary import plural

    click.echo(
        f"{file}: ok ({plural(len(scenario.cluster.nodes), 'node')},"
        f" {plural(scenario.client_count, 'client')}, {plural(len(scenario.timeline), 'step')})"
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
@click.option(
    "--clients", type=click.IntRange(1), default=1000, show_default=True, help="How many clients."
)
@click.option(
    "--nodes",
    type=click.IntRange(1, 10_000),
    default=4,
    show_default=True,
    help="How many server nodes (n1..nK).",
)
@click.option(
    "--adapter",
    type=click.Choice(list(ADAPTERS)),
    default=None,
    help="How the nodes are joined (default: memory for one node, redis for more).",
)
@click.option(
    "--rooms",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="How many rooms (room1..roomR).",
)
@click.option(
    "--rooms-per-client",
    default="1-3",
    show_default=True,
    help="Rooms each client joins: N, or LO-HI for a number drawn uniformly.",
)
@click.option(
    "--room-emits",
    type=click.IntRange(0),
    default=100,
    show_default=True,
    help="How many emits to a room drawn at random, from the nodes in turn, 1 ms apart.",
)
@click.option(
    "--broadcasts",
    type=click.IntRange(0),
    default=1,
    show_default=True,
    help="How many emits to every client (io.emit), after the room emits.",
)
@click.option(
    "--client-ms",
    type=click.FloatRange(0),
    default=5.0,
    show_default=True,
    help="Latency client <-> node, one way (ms).",
)
@click.option(
    "--adapter-ms",
    type=click.FloatRange(0),
    default=1.0,
    show_default=True,
    help="Latency node -> broker -> node, one way (ms).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="The generated scenario's seed (memberships and the run).",
)
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
    from roomsim.summary import plural

    per_client = _range(rooms_per_client)
    if per_client[1] > rooms:
        _fail(f"--rooms-per-client {rooms_per_client}: more than the {rooms} rooms")
    try:
        refuse_inputs([("OUT", out)], [])  # generate reads no file
        check_target(out, "scenario")
    except OutputError as err:
        _fail(str(err))
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
    try:
        write_scenario(scenario, out)
    except OutputError as err:
        _fail(f"{err}; nothing written")
    expected = expected_deliveries(clients, rooms, per_client, room_emits, broadcasts)
    click.echo(
        f"wrote {out}: {plural(clients, 'client')}, {plural(len(scenario['timeline']), 'emit')},"
        f" about {expected:,.0f} deliveries"
    )


_SPEC_HELP = """Run the grid x seeds of sweep SPEC in parallel and write one results table.

SPEC is a YAML file with these keys:

\b
  scenario  the base scenario file (required; relative to SPEC)
  grid      dotted scenario keys -> the list of values to try (default: none)
  seeds     a number of seeds (0..N-1) or a list of seeds (default: 1)
  out       the results table, .csv or .parquet (relative to SPEC; or --out)

For example:

\b
  scenario: big.json
  grid:
    cluster.nodes: [2, 4, 8]
    latency.adapter_ms: [0.5, 2]
  seeds: 3
  out: results.csv

Every grid point runs with every seed: one row each, with the point's
values, the seed and the run's figures (deliveries, drops, published,
received, discarded, useful_fraction, broker_bytes, latencies). Needs the
'sweep' extra (pip install "roomsim[sweep]").
"""


@main.command(help=_SPEC_HELP)
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "--scheduler",
    help="Address of a running Dask scheduler, trusted completely: Dask exchanges pickles,"
    " which can run any code (default: a local cluster listening on 127.0.0.1 only).",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    help="Results table (.csv or .parquet); default: the spec's 'out'.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def sweep(spec: Path, scheduler: str | None, out_path: Path | None, quiet: bool) -> None:
    from roomsim.sweep import SweepSpecError, load_sweep_spec
    from roomsim.sweep import sweep as run_sweep

    try:
        plan = load_sweep_spec(spec)
    except ScenarioError as err:
        _fail_scenario(err)
    except SweepSpecError as err:
        _fail(str(err))
    out_path = out_path or plan.out
    if out_path is None:
        _fail(f"{spec}: out: give a results file here or with --out")
    if out_path.suffix not in (".csv", ".parquet"):
        _fail(f"{out_path}: expected a results file ending in .csv or .parquet")
    try:
        refuse_inputs(
            [("out" if out_path == plan.out else "--out", out_path)], [spec, plan.scenario]
        )
        output = Output(out_path, "results", binary=out_path.suffix == ".parquet")
    except OutputError as err:
        _fail(str(err))
    fate = "the previous file is kept" if output.replaces else "nothing written"
    with _stoppable(lambda: f"during the sweep; {out_path}: {fate}"), output:
        table = run_sweep(
            plan.scenario,
            plan.grid,
            plan.seeds,
            scheduler=scheduler,
            progress=False if quiet else None,
        )
        if out_path.suffix == ".parquet":
            table.to_parquet(output.file, index=False)
        else:
            table.to_csv(output.file, index=False)
    if not quiet:
        from roomsim.summary import plural

        click.echo(f"wrote {out_path}: {plural(len(table), 'run')}")


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--adapters",
    default="redis,sharded-redis",
    show_default=True,
    help=f"Comma-separated adapters to compare, among {', '.join(ADAPTERS)}.",
)
@click.option("--seed", type=int, help="Override the scenario's seed.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the same figures as one JSON object keyed by adapter.",
)
def compare(file: Path, adapters: str, seed: int | None, as_json: bool) -> None:
    """Run scenario FILE on each adapter and show the costs side by side."""
    import json

    from roomsim.compare import compare_adapters, format_comparison

    names = [a.strip() for a in adapters.split(",") if a.strip()]
    unknown = [a for a in names if a not in ADAPTERS]
    if not names or unknown:
        _fail(f"--adapters: expected names among {', '.join(ADAPTERS)}, got {adapters!r}")
    try:
        scenario = load_scenario(file)
    except ScenarioError as err:
        _fail_scenario(err)
    if "memory" in names and len(scenario.cluster.nodes) > 1:
        _fail(f"{file}: the memory adapter cannot join {len(scenario.cluster.nodes)} nodes")
    results = compare_adapters(scenario, names, seed=seed)
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        click.echo(format_comparison(results))
        if not all(r["same_deliveries"] for r in results.values()):
            click.echo("note: the adapters did not deliver the same messages to the same clients")


@main.group(invoke_without_command=True)
@click.pass_context
def examples(ctx: click.Context) -> None:
    """List the example scenarios that ship with roomsim, one line each.

    `roomsim examples copy NAME DIR` writes one into DIR, to run or edit.
    """
    if ctx.invoked_subcommand is not None:
        return
    from roomsim import examples as shipped

    names = shipped.names()
    width = max(map(len, names)) + 2
    for name in names:
        click.echo(f"{name.ljust(width)}{shipped.describe(name)}")


def _example_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from roomsim import examples as shipped

    return [name for name in shipped.names() if name.startswith(incomplete)]


@examples.command("copy")
@click.argument("name", shell_complete=_example_names)
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path), default=".")
def copy_example(name: str, directory: Path) -> None:
    """Write example NAME (see `roomsim examples`) into DIR (default: here).

    Refuses to overwrite a file that exists (exit status 2).
    """
    from roomsim import examples as shipped

    try:
        source = shipped.path(name)
    except KeyError:
        _fail(f"examples copy: no example {name!r} (roomsim examples lists them)")
    target = directory / source.name
    if target.exists():
        _fail(f"{target}: already exists; not overwritten")
    try:
        with Output(target, "example", binary=True) as output:
            output.file.write(source.read_bytes())
    except OutputError as err:
        _fail(f"{err}; nothing written")
    click.echo(f"wrote {target}")


def _register_drawing_commands() -> None:
    from roomsim.draw_commands import draw, why

    main.add_command(draw)
    main.add_command(why)
    from roomsim.capacity_command import capacity_command

    main.add_command(capacity_command)


_register_drawing_commands()


def _register_real_commands() -> None:
    from roomsim.real.commands import diff, real

    main.add_command(real)
    main.add_command(diff)
    from roomsim.real.calibrate import calibrate_command

    main.add_command(calibrate_command)


_register_real_commands()


def command() -> None:
    """The ``roomsim`` program: :func:`main` in a process of its own."""
    for_process()
    main(prog_name="roomsim")


if __name__ == "__main__":  # pragma: no cover
    command()
