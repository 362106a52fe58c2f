"""The ``roomsim capacity`` command (its search is :mod:`roomsim.capacity`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["capacity_command"]


def _fail(message: str) -> None:
    click.echo(f"roomsim: {message}", err=True)
    sys.exit(2)


def _figure(point: Any, stat: str) -> str:
    got = point.latency.get(stat)
    return "-" if got is None else f"{got:,.1f} ms"


@click.command("capacity")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--slo", required=True, help="The latency objective, such as 'p99<100ms' (p50, p95, p99, max)."
)
@click.option(
    "--vary",
    default="load.rate",
    show_default=True,
    help="The scenario number to search over (dotted; load.<key> sets every load entry).",
)
@click.option("--start", type=float, help="The first value tried (default: the scenario's own).")
@click.option(
    "--steps", type=int, default=6, show_default=True, help="Bisection steps after the bracket."
)
@click.option("--seed", type=int, help="Override the scenario's seed.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Run this many points of each bisection step at once on a local Dask cluster"
    " (the sweep extra).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option(
    "--plot",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Draw latency percentiles against the loads tried (the knee) into this PNG or SVG.",
)
def capacity_command(
    file: Path,
    slo: str,
    vary: str,
    start: float | None,
    steps: int,
    seed: int | None,
    workers: int,
    as_json: bool,
    plot: Path | None = None,
) -> None:
    """Find the highest load of scenario FILE that meets a latency objective.

    Each point is one run with the scenario's cost profile (costs:); the
    load doubles until the objective fails, then is bisected.  It says what
    saturates first (which node's event loop, or the broker) and why.
    """
    from roomsim.capacity import capacity, parse_slo, why_saturated
    from roomsim.profile import load_profile
    from roomsim.scenario import ScenarioError, load_scenario
    from roomsim.scenario.loading import scenario_data

    try:
        objective = parse_slo(slo)
    except ValueError as err:
        _fail(f"--slo: {err}")
    try:
        scenario = load_scenario(file)
        base = scenario_data(file)
    except ScenarioError as err:
        _fail(str(err))
    if scenario.costs is None:
        _fail(f"{file}: costs: a capacity search needs a cost profile (costs: default)")
    if isinstance(base.get("costs"), str) and base["costs"] != "default":
        base["costs"] = load_profile(file.parent / base["costs"]).as_dict()
        base["costs"].pop("machine", None)

    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        _fail(f"{plot}: --plot writes a file ending in .png or .svg")
    tried: list[Any] = []

    def show(point: Any) -> None:
        tried.append(point)
        if not as_json:
            verdict = "meets" if point.meets(objective) else "fails"
            click.echo(
                f"{vary}={point.value:,.6g}: {objective.stat} {_figure(point, objective.stat)}"
                f"  ({point.throughput:,.0f} deliveries/s) {verdict}",
                err=True,
            )

    try:
        met, failed = capacity(
            base, objective, vary, start, steps=steps, seed=seed, on_point=show, workers=workers
        )
    except ImportError as err:
        _fail(str(err))
    except (ValueError, ScenarioError) as err:
        _fail(f"{file}: --vary {vary}: {err}")
    why = why_saturated(failed.load if failed else None, scenario.cluster.adapter)
    if plot is not None:
        from roomsim.drawing import draw_knee, draw_to_file

        pts = [{"value": p.value, **p.latency} for p in tried if p.latency]
        draw_to_file(draw_knee, pts, plot, xlabel=vary, limit_ms=objective.limit_ms)
        click.echo(f"wrote {plot}", err=True)
    if as_json:
        out = {
            "objective": str(objective),
            "vary": vary,
            "highest": None if met is None else {"value": met.value, **met.latency},
            "first_failing": None if failed is None else {"value": failed.value, **failed.latency},
            "saturates_first": why,
        }
        click.echo(json.dumps(out, indent=2))
        return
    if met is None:
        lowest = f" (the lowest: {vary}={failed.value:g})" if failed is not None else ""
        click.echo(f"no load tried meets {objective}{lowest}")
    else:
        click.echo(
            f"highest {vary} meeting {objective}: {met.value:,.6g}"
            f" ({objective.stat} {_figure(met, objective.stat)},"
            f" {met.throughput:,.0f} deliveries/s)"
        )
    if failed is not None:
        click.echo(
            f"at {vary}={failed.value:,.6g}: {objective.stat} {_figure(failed, objective.stat)};"
            f" saturates first: {why}"
        )
    else:
        click.echo(f"every load up to {met.value:,.6g} meets {objective}")  # type: ignore[union-attr]
