"""The ``roomsim draw`` and ``roomsim why`` commands.

Both read a scenario (``.yaml``, ``.yml``, ``.json``: it is run first) or a
saved trace (``.jsonl`` or ``.parquet``), so a picture or an answer can be had again from a
trace file alone.  Bad input gets one line on standard error, starting
``roomsim:``, and exit status 2, with nothing written.  The main command
group registers them with ``main.add_command(draw)`` and
``main.add_command(why)``.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import click

from roomsim.trace import Trace

__all__ = ["KINDS", "draw", "load_trace", "why"]

#: What ``roomsim draw --kind`` can draw, and the options each one takes.
KINDS: dict[str, tuple[str, ...]] = {
    "delivery": ("msg",),
    "timeline": ("msg", "from", "to", "room", "client", "node", "view"),
    "outcomes": ("msg", "room", "client", "node", "view"),
    "membership": ("at",),
    "latency": (),
    "broker": ("from", "to"),
    "load": (),
    "utilisation": (),
    "animation": ("from", "to"),
}
_SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")
#: ``--view``: per client (detail), per node or room (aggregate), or by the run's size (auto)
VIEWS = ("auto", "detail", "aggregate")
#: how ``--help`` marks an option the command cannot do without
REQUIRED = "[required]"


class _Choices(click.Choice):  # type: ignore[type-arg]
    """Choices that ``--help`` and shell completion list; any other value is
    left to the command, whose one-line error names the choices."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return value


def _fail(message: str) -> NoReturn:
    click.echo(f"roomsim: {message}", err=True)
    sys.exit(2)


def _read_jsonl(path: Path) -> Trace:
    """A saved trace, each line checked as it is read (one-line errors).

    Deliveries are read in batches (:func:`~roomsim.trace.batch_deliveries`):
    the same records, in a fraction of the time and memory.
    """
    try:
        return Trace.from_records(_checked_items(path))
    except UnicodeDecodeError:
        _fail(f"{path}: not a text file (UTF-8 expected)")
    except OSError as err:
        _fail(f"{path}: cannot read it: {err.strerror}")
    except KeyError as err:
        try:  # a line that is not a record is the first thing to say
            for _ in _checked_items(path):
                pass
        except (UnicodeDecodeError, OSError):
            pass
        _fail(f"{path}: not a roomsim trace (a record has no {err.args[0]!r})")


def _checked_items(path: Path) -> Iterator[dict[str, Any] | tuple[Any, ...]]:
    from roomsim.analysis.jsonl import batch_deliveries

    number = 0

    def numbered(lines: Iterable[str]) -> Iterator[str]:
        nonlocal number
        for number, line in enumerate(lines, 1):  # noqa: B007
            yield line

    def check(line: str) -> dict[str, Any] | None:
        return _checked(path, number, line)

    with open(path, encoding="utf-8") as lines:
        yield from batch_deliveries(numbered(lines), check)


def _checked(path: Path, number: int, line: str) -> dict[str, Any] | None:
    """The record on line ``number`` (None for a blank line), or exit with one line."""
    if not line.strip():
        return None
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as err:
        _fail(f"{path}:{number}: not a JSON object ({err.msg})")
    if not isinstance(rec, dict):
        _fail(f"{path}:{number}: expected a trace record (a JSON object)")
    t = rec.get("t")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
        _fail(f"{path}:{number}: a trace record needs a time 't' (a number)")
    if not isinstance(rec.get("kind"), str):
        _fail(f"{path}:{number}: a trace record needs a 'kind' (a string)")
    return rec


def load_trace(file: Path) -> Trace:
    """The trace of ``file``: a saved trace, or the run of a scenario.

    Exits with status 2 and one line on standard error when ``file`` is
    missing, of another type, or not valid.
    """
    if not file.exists():
        _fail(f"{file}: no such file")
    if file.is_dir():
        _fail(f"{file}: is a directory, not a file")
    suffix = file.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(file)
    if suffix == ".parquet":
        try:
            return Trace.read(file)
        except (ValueError, ImportError) as err:
            _fail(str(err))
    if suffix not in _SCENARIO_SUFFIXES:
        _fail(
            f"{file}: expected a scenario (.yaml, .yml, .json) or a saved trace (.jsonl, .parquet)"
        )
    from roomsim.runner import run_scenario
    from roomsim.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(file)
    except ScenarioError as err:
        _fail(str(err))
    return run_scenario(scenario).trace


def _number(option: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        _fail(f"--{option}: expected a time in ms (a number), got {text!r}")
    if not math.isfinite(value):
        _fail(f"--{option}: expected a finite time in ms, got {text!r}")
    return int(value) if value.is_integer() else value


def _check_out(out: Path | None, kind: str) -> Path:
    if out is None:
        _fail("draw: --out is required (the picture file)")
    wanted = (".gif",) if kind == "animation" else (".png", ".svg")
    if out.suffix.lower() not in wanted:
        _fail(f"{out}: --kind {kind} writes a file ending in {' or '.join(wanted)}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        _fail(f"{out}: cannot write the picture: no directory {str(parent)!r}")
    if out.is_dir():
        _fail(f"{out}: cannot write the picture: it is a directory")
    return out


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--kind",
    type=_Choices(list(KINDS)),
    help="What to draw: a message's delivery graph, the space-time timeline, who got which"
    " message (outcomes), who is in which room, the latency CDF, broker traffic, load per node,"
    " the event loops' utilisation and queue over time (a scenario with costs:), or an animated"
    " GIF. " + REQUIRED,
)
@click.option("--msg", help="A message id (delivery; timeline and outcomes: only this message).")
@click.option("--at", "at", help="Time in ms (membership; default: the end of the run).")
@click.option(
    "--from",
    "start",
    help="Start of the window, ms (timeline, broker, animation). Without --from/--to the"
    " timeline zooms on the busy part of the run.",
)
@click.option("--to", "end", help="End of the window, ms (timeline, broker, animation).")
@click.option(
    "--room", help="Timeline, outcomes: only messages sent to this room (and its members)."
)
@click.option("--client", help="Timeline, outcomes: only what this client sent or was sent.")
@click.option("--node", help="Timeline, outcomes: only this node and the clients connected to it.")
@click.option(
    "--view",
    type=_Choices(list(VIEWS)),
    help="Timeline, outcomes: 'detail' draws every client, 'aggregate' counts per node or room;"
    " 'auto' (default) draws detail up to 200 clients and aggregates beyond, unless --client,"
    " --room, --msg or --node picks a slice.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="The picture: .png or .svg (.gif for animation). " + REQUIRED,
)
def draw(
    file: Path,
    kind: str | None,
    msg: str | None,
    at: str | None,
    start: str | None,
    end: str | None,
    room: str | None,
    client: str | None,
    node: str | None,
    view: str | None,
    out: Path | None,
) -> None:
    """Draw a picture of scenario or trace FILE (a scenario is run first).

    Beyond 200 clients the timeline and outcomes pictures count per node or
    per room (the title says so); --client, --room, --msg or --node draws
    the detail of a slice.
    """
    if kind is None:
        _fail(f"draw: --kind is required ({', '.join(KINDS)})")
    if kind not in KINDS:
        _fail(f"draw: --kind {kind!r}: expected one of {', '.join(KINDS)}")
    if view is not None and view not in VIEWS:
        _fail(f"draw: --view {view!r}: expected one of {', '.join(VIEWS)}")
    given = {
        "msg": msg,
        "at": at,
        "from": start,
        "to": end,
        "room": room,
        "client": client,
        "node": node,
        "view": view,
    }
    for option, value in given.items():
        if value is not None and option not in KINDS[kind]:
            _fail(f"draw: --{option} does not apply to --kind {kind}")
    if kind == "delivery" and msg is None:
        _fail("draw: --kind delivery needs --msg (a message id)")
    path = _check_out(out, kind)
    from roomsim.outputs import OutputError, refuse_inputs

    try:
        refuse_inputs([("--out", path)], [file])
    except OutputError as err:
        _fail(str(err))
    t_at, lo, hi = _number("at", at), _number("from", start), _number("to", end)
    if lo is not None and hi is not None and lo > hi:
        _fail(f"draw: --from {start} is after --to {end}")
    if kind == "utilisation":
        click.echo(f"wrote {_draw_utilisation(file, path)}")
        return
    trace = load_trace(file)
    from roomsim.analysis import NotInTrace

    try:
        written = _draw(
            kind, trace, path, msg, t_at, lo, hi, room, client, node=node, view=view or "auto"
        )
    except NotInTrace as err:
        _fail(f"{file}: {err}")
    except KeyError as err:
        _fail(f"{file}: not a roomsim trace (a record has no {err.args[0]!r})")
    click.echo(f"wrote {written}")


def _draw_utilisation(file: Path, out: Path) -> Path:
    """Run scenario ``file`` (it needs ``costs:``) and draw its loops' utilisation
    and queue over time, one above the other."""
    if file.suffix.lower() not in _SCENARIO_SUFFIXES:
        _fail(
            f"{file}: --kind utilisation runs a scenario with costs: (a trace has no loop figures)"
        )
    from roomsim.loop import loop_series
    from roomsim.runner import run_scenario
    from roomsim.scenario import ScenarioError, load_scenario

    if not file.exists():
        _fail(f"{file}: no such file")
    try:
        scenario = load_scenario(file)
    except ScenarioError as err:
        _fail(str(err))
    if scenario.costs is None:
        _fail(f"{file}: costs: --kind utilisation needs a cost profile (costs: default)")
    from roomsim.drawing import save_loops

    return save_loops(loop_series(run_scenario(scenario)), out)


def _draw(
    kind: str,
    trace: Trace,
    out: Path,
    msg: str | None,
    at: float | None,
    start: float | None,
    end: float | None,
    room: str | None,
    client: str | None,
    *,
    node: str | None = None,
    view: str = "auto",
) -> Path:
    from roomsim import analysis, drawing
    from roomsim.analysis.aggregate import DETAIL_CLIENTS, activity, count_clients, slice_records
    from roomsim.analysis.records import as_records

    if kind in ("timeline", "outcomes"):
        _check_slice(trace, msg, room, client, node)
        sliced = any(x is not None for x in (msg, room, client, node))
        aggregate = view == "aggregate" or (
            view == "auto" and not sliced and count_clients(trace) > DETAIL_CLIENTS
        )
        if kind == "outcomes":
            chosen_records: Any = (
                slice_records(trace, msg=msg, room=room, client=client, node=node)
                if sliced
                else trace
            )
            return _draw_outcomes(chosen_records, out, aggregate, view)
        if aggregate:
            from roomsim.drawing.aggregate import activity_figsize, draw_activity

            chosen = slice_records(trace, msg=msg, room=room, client=client) if sliced else trace
            counts = activity(
                chosen, start=start, end=end, nodes=[node] if node is not None else None
            )
            return drawing.draw_to_file(
                draw_activity, counts, out, figsize=activity_figsize(counts)
            )
        if node is not None:
            trace = slice_records(trace, node=node)  # type: ignore[assignment]
    if kind in ("latency", "load"):  # one pass: no list of every record
        records: Any = trace
    else:
        records = as_records(trace)
    if kind == "delivery":
        G = analysis.delivery_graph(records, msg)  # type: ignore[arg-type]
        return drawing.draw_to_file(
            drawing.draw_delivery_graph, G, out, figsize=drawing.delivery_figsize(G)
        )
    if kind == "timeline":
        data = analysis.spacetime(records, start, end, msg=msg, room=room, client=client)
        return drawing.draw_to_file(
            drawing.draw_spacetime,
            data,
            out,
            figsize=drawing.spacetime_figsize(data),
            zoom=start is None and end is None,  # a window asked for is drawn whole
        )
    if kind == "membership":
        t = at if at is not None else (records[-1]["t"] if records else 0)
        G = analysis.membership_graph(records, t)  # type: ignore[assignment]
        return drawing.draw_to_file(
            drawing.draw_membership, G, out, figsize=drawing.membership_figsize(G)
        )
    if kind == "latency":
        return drawing.draw_to_file(
            drawing.draw_latency_cdf, analysis.latency_cdf(records), out, figsize=(7, 4.5)
        )
    if kind == "broker":
        traffic = analysis.broker_traffic(records, start=start, end=end)
        return drawing.draw_to_file(drawing.draw_broker_traffic, traffic, out, figsize=(9, 4.5))
    if kind == "load":
        load = analysis.node_load(records)
        width = max(5.0, 1.2 * len(load) + 3)
        return drawing.draw_to_file(drawing.draw_node_load, load, out, figsize=(width, 4.5))
    frames = analysis.delivery_frames(records, start=start, end=end)
    return drawing.save_animation(drawing.animate_deliveries(frames), out)


def _check_slice(
    records: Any, msg: str | None, room: str | None, client: str | None, node: str | None
) -> None:
    """Raise NotInTrace (one line) for a message, client, room or node the trace lacks."""
    from roomsim.analysis import NotInTrace
    from roomsim.analysis.records import check_client, message_records

    if msg is not None:
        message_records(records, msg)
    if client is not None:
        check_client(records, client)
    if room is not None and not _has_room(records, room):
        raise NotInTrace(f"no room {room!r} in the trace")
    if node is not None and not any(r.get("node") == node for r in records):
        raise NotInTrace(f"no node {node!r} in the trace")


def _draw_outcomes(records: Any, out: Path, aggregate: bool, view: str) -> Path:
    from roomsim.analysis.aggregate import DETAIL_CLIENTS, count_clients
    from roomsim.drawing.overview import save_outcomes

    if view == "auto":
        aggregate = aggregate or count_clients(records) > DETAIL_CLIENTS
    return save_outcomes(records, out, aggregate=aggregate)


def _has_room(records: Any, room: str) -> bool:
    for rec in records:
        if rec.get("room") == room:
            return True
        if rec["kind"] == "emit" and (
            room in (rec.get("to") or ()) or room in rec.get("except", ())
        ):
            return True
    return False


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--msg", help="A message id (as in the trace: m1, ...). " + REQUIRED)
@click.option("--client", help="A client name. " + REQUIRED)
def why(file: Path, msg: str | None, client: str | None) -> None:
    """Say why a client did or did not get a message, in scenario or trace FILE."""
    if msg is None or client is None:
        _fail("why: give --msg (a message id) and --client (a client name)")
    trace = load_trace(file)
    from roomsim.analysis import NotInTrace, why_not

    try:
        sentence = why_not(trace, msg, client)
    except NotInTrace as err:
        _fail(f"{file}: {err}")
    except KeyError as err:
        _fail(f"{file}: not a roomsim trace (a record has no {err.args[0]!r})")
    click.echo(sentence)
