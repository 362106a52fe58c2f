"""Explore a generated run in a notebook: pick an adapter and a size, then step through time.

Three layers, each usable alone:

- :func:`simulate` builds a cluster from a generated scenario (``clients``
  over ``nodes``, each in one of ``rooms`` rooms, then single-room emits and
  a broadcast) and runs it.  No widgets and no matplotlib: test it like any
  function.
- :func:`draw_step` draws that run as it stood at one time step (who is in
  which room on which node, who has got which message so far, what each node
  has received and thrown away so far).
- :func:`explore` wraps both in an ipywidgets UI (adapter, nodes, clients,
  rooms, seed, and a Play control over the time steps);
  :func:`explore_static` returns a pre-rendered animation as HTML, for
  readers without a live kernel.

ipywidgets is optional (the ``notebooks`` extra); only :func:`explore` needs it.
matplotlib is imported inside the drawing functions only.
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from roomsim.analysis import Frames, delivery_frames, membership_graph, node_load, run_metrics
from roomsim.cluster import Cluster
from roomsim.generate import generate_scenario
from roomsim.runner import run_scenario
from roomsim.scenario import scenario_from_dict
from roomsim.trace import Trace, format_time

__all__ = [
    "ADAPTER_CHOICES",
    "Explorer",
    "ExplorerRun",
    "draw_step",
    "explore",
    "explore_static",
    "simulate",
]

#: The adapters the explorer offers: label -> (adapter, subscription_mode).
ADAPTER_CHOICES: dict[str, tuple[str, str]] = {
    "redis (classic)": ("redis", "dynamic"),
    "sharded-redis, dynamic": ("sharded-redis", "dynamic"),
    "sharded-redis, static": ("sharded-redis", "static"),
}

_INSTALL = 'python -m pip install -e ".[notebooks]"'


@dataclass
class ExplorerRun:
    """A finished run of :func:`simulate`, cut into time steps.

    Attributes
    ----------
    adapter, subscription_mode : str
        How the nodes were joined.
    seed : int
    scenario : dict
        The generated scenario (a plain mapping; see :mod:`roomsim.generate`).
    cluster : Cluster
        The cluster after the run.
    frames : Frames
        The run cut into time steps (:func:`~roomsim.analysis.delivery_frames`).
    metrics : dict
        :func:`~roomsim.analysis.run_metrics` of the whole run.
    """

    adapter: str
    subscription_mode: str
    seed: int
    scenario: dict[str, Any]
    cluster: Cluster
    frames: Frames
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def trace(self) -> Trace:
        """Every record of the run."""
        return self.cluster.trace

    @property
    def nodes(self) -> list[str]:
        """The node names, in order."""
        return list(self.cluster.nodes)

    @property
    def clients(self) -> list[str]:
        """The client names, in connection order."""
        return list(self.cluster.clients)

    @property
    def steps(self) -> int:
        """How many time steps (animation frames) the run has."""
        return len(self.frames)

    @property
    def label(self) -> str:
        """The adapter, as the explorer names it."""
        if self.adapter == "sharded-redis":
            return f"sharded-redis, {self.subscription_mode}"
        return "redis (classic)" if self.adapter == "redis" else self.adapter

    def time_at(self, step: int) -> float:
        """The simulated time (ms) at the end of time step ``step`` (0 to ``steps - 1``)."""
        if not 0 <= step < self.steps:
            raise IndexError(f"step must be from 0 to {self.steps - 1}, got {step}")
        return self.frames.edges_ms[step + 1]

    def records_until(self, t: float) -> list[dict[str, Any]]:
        """The records at or before ``t`` ms."""
        return [rec for rec in self.trace if rec["t"] <= t]

    def summary(self) -> str:
        """One line: the run's size and what the adapter cost."""
        m = self.metrics
        return (
            f"{self.label}: {len(self.nodes)} nodes, {len(self.clients)} clients,"
            f" {m['emits']} emits, {m['deliveries']} deliveries, {m['drops']} drops;"
            f" broker copies {m['received']}, {m['discarded']} thrown away"
            f" (useful {m['useful_fraction']:.0%})"
        )


def simulate(
    adapter: str = "redis",
    nodes: int = 3,
    clients: int = 12,
    rooms: int = 3,
    seed: int = 0,
    *,
    subscription_mode: str = "dynamic",
    rooms_per_client: tuple[int, int] = (1, 1),
    room_emits: int = 6,
    broadcasts: int = 1,
    client_ms: float = 5.0,
    adapter_ms: float = 4.0,
    spacing_ms: float = 4.0,
    max_frames: int = 40,
) -> ExplorerRun:
    """Generate a scenario, run it on ``adapter``, and cut the run into time steps.

    ``clients`` (``user1``, ...) go round robin over ``nodes`` (``n1``, ...)
    and join ``rooms_per_client`` random rooms of ``room1`` to
    ``room<rooms>``; from t = 10 ms the nodes take turns to send
    ``room_emits`` single-room emits, ``spacing_ms`` apart, then
    ``broadcasts`` emits to everyone (see
    :func:`~roomsim.generate.generate_scenario`).

    Parameters
    ----------
    adapter : {"redis", "sharded-redis", "memory"}
        ``memory`` needs one node.
    nodes, clients, rooms : int
        Sizes, each at least 1.
    seed : int
        The run's seed (rooms picked, socket ids, which room each emit targets).
    subscription_mode : {"dynamic", "static", "dynamic-private"}
        With ``sharded-redis`` only.
    max_frames : int
        At most this many time steps.

    Returns
    -------
    ExplorerRun

    Examples
    --------
    >>> run = simulate("sharded-redis", nodes=3, clients=9, rooms=3, seed=1)
    >>> len(run.nodes), len(run.clients), run.metrics["emits"]
    (3, 9, 7)
    >>> run.steps <= 40 and run.time_at(run.steps - 1) >= run.metrics["end_ms"]
    True
    """
    for name, value in (("nodes", nodes), ("clients", clients), ("rooms", rooms)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if adapter != "sharded-redis" and subscription_mode != "dynamic":
        raise ValueError(
            f"subscription_mode is an option of adapter 'sharded-redis', not {adapter!r}"
        )
    lo, hi = rooms_per_client
    data = generate_scenario(
        clients=clients,
        nodes=nodes,
        adapter=adapter,
        rooms=rooms,
        rooms_per_client=(min(lo, rooms), min(hi, rooms)),
        room_emits=room_emits,
        broadcasts=broadcasts,
        client_ms=client_ms,
        adapter_ms=adapter_ms,
        spacing_ms=spacing_ms,
        seed=seed,
    )
    if adapter == "sharded-redis":
        data["cluster"]["subscription_mode"] = subscription_mode
    cluster = run_scenario(scenario_from_dict(data, path="<explorer>"))
    return ExplorerRun(
        adapter=adapter,
        subscription_mode=subscription_mode,
        seed=seed,
        scenario=data,
        cluster=cluster,
        frames=delivery_frames(cluster.trace, max_frames=max_frames),
        metrics=run_metrics(cluster.trace.tally),
    )


def _so_far(records: Iterable[dict[str, Any]], t: float) -> list[dict[str, Any]]:
    """Every connect and emit (so the grid keeps its shape), and the rest up to ``t``."""
    return [r for r in records if r["t"] <= t or r["kind"] in ("connect", "emit")]


def draw_step(run: ExplorerRun, step: int, fig: Any = None) -> Any:
    """Draw ``run`` as it stood at the end of time step ``step``.

    Top: who is in which room on which node
    (:func:`~roomsim.drawing.draw_membership`).  Bottom left: who has got
    which message so far (:func:`~roomsim.drawing.draw_outcomes`; grey is
    "not targeted" or "not yet").  Bottom right: per node, deliveries, broker
    copies received and copies thrown away so far
    (:func:`~roomsim.drawing.draw_node_load`, on the scale of the whole run).

    Parameters
    ----------
    run : ExplorerRun
    step : int
        From 0 to ``run.steps - 1``.
    fig : matplotlib Figure, optional
        Where to draw (default: a new :class:`matplotlib.figure.Figure`, no
        GUI backend needed).

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> run = simulate("redis", nodes=2, clients=4, rooms=2)
    >>> fig = draw_step(run, run.steps - 1)
    >>> [ax.get_title() for ax in fig.axes][1:]
    ['who got which message', 'load per node']
    """
    from matplotlib.figure import Figure

    from roomsim.drawing import (
        draw_membership,
        draw_node_load,
        draw_outcomes,
        membership_figsize,
    )

    t = run.time_at(step)
    members = membership_graph(run.trace, t)
    width, high = membership_figsize(members)
    if fig is None:
        fig = Figure(figsize=(max(12.0, min(width, 20.0)), high + 4.5))
    grid = fig.add_gridspec(2, 2, height_ratios=[high, 4.0])
    left = fig.add_subplot(grid[0, :])
    top = fig.add_subplot(grid[1, 0])
    bottom = fig.add_subplot(grid[1, 1])
    draw_membership(members, ax=left)
    draw_outcomes(_so_far(run.trace, t), ax=top)
    if len(run.clients) > 30:
        top.set_yticks([])
        top.set_ylabel(f"{len(run.clients)} clients")
    everything = node_load(run.trace)
    now = node_load(run.records_until(t))
    draw_node_load({n: now.get(n, dict.fromkeys(c, 0)) for n, c in everything.items()}, ax=bottom)
    highest = max([v for counts in everything.values() for v in counts.values()] + [1])
    bottom.set_ylim(0, highest * 1.3)
    fig.suptitle(f"{run.label}, seed {run.seed}: t = {format_time(t)} ms", fontsize=11)
    fig.tight_layout()
    return fig


def _png(fig: Any, dpi: int = 72) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def explore_static(
    adapter: str = "redis",
    nodes: int = 3,
    clients: int = 12,
    rooms: int = 3,
    seed: int = 0,
    *,
    interval_ms: int = 300,
    dpi: int = 72,
    **options: Any,
) -> str:
    """A pre-rendered animation of a :func:`simulate` run, as HTML (no live kernel needed).

    Each frame is one time step of :func:`~roomsim.drawing.animate_deliveries`:
    copies through the broker and deliveries flash as arrows coloured by
    fate.  Show it with ``IPython.display.HTML(explore_static(...))``.
    ``options`` go to :func:`simulate` (``max_frames`` sets the number of frames).

    Examples
    --------
    >>> page = explore_static("redis", nodes=2, clients=4, rooms=2, max_frames=3)
    >>> "<script" in page and "animation" in page.lower()
    True
    """
    from matplotlib.figure import Figure

    from roomsim.drawing import animate_deliveries

    run = simulate(adapter, nodes, clients, rooms, seed, **options)
    width = min(12.0, max(7.0, 1.6 * len(run.nodes) + 4.0))
    fig = Figure(figsize=(width, 5.0), dpi=dpi)
    anim = animate_deliveries(run.frames, fig, interval_ms=interval_ms)
    caption = f"<p><b>{html.escape(run.summary())}</b></p>"
    return caption + anim.to_jshtml(default_mode="once")


class Explorer:
    """The widgets of :func:`explore` and the run they show.

    Attributes
    ----------
    controls : dict
        ``adapter``, ``nodes``, ``clients``, ``rooms``, ``seed`` (the
        parameters), ``play`` and ``step`` (the time step).
    run : ExplorerRun or None
        The run shown (None if the last parameters were refused).
    ui : ipywidgets.VBox
        Everything, to display.
    """

    def __init__(
        self,
        adapter: str = "redis",
        nodes: int = 3,
        clients: int = 12,
        rooms: int = 3,
        seed: int = 0,
        **options: Any,
    ) -> None:
        try:
            import ipywidgets as widgets
        except ImportError as err:
            raise ImportError(
                f"explore() needs ipywidgets; install the notebooks extra: {_INSTALL}"
            ) from err
        self.options = options
        self.run: ExplorerRun | None = None
        self._pictures: dict[int, bytes] = {}
        mode = options.pop("subscription_mode", "dynamic")
        choice = next(
            (label for label, value in ADAPTER_CHOICES.items() if value == (adapter, mode)),
            None,
        )
        if choice is None:
            raise ValueError(
                f"explore() offers {list(ADAPTER_CHOICES)}; got adapter {adapter!r}, mode {mode!r}"
            )
        wide = {"description_width": "initial"}
        self.controls = {
            "adapter": widgets.Dropdown(
                options=list(ADAPTER_CHOICES.items()),
                value=ADAPTER_CHOICES[choice],
                description="adapter",
            ),
            "nodes": widgets.IntSlider(value=nodes, min=1, max=max(12, nodes), description="nodes"),
            "clients": widgets.IntSlider(
                value=clients, min=1, max=max(60, clients), description="clients"
            ),
            "rooms": widgets.IntSlider(value=rooms, min=1, max=max(12, rooms), description="rooms"),
            "seed": widgets.BoundedIntText(
                value=seed, min=0, max=10**6, description="seed", style=wide
            ),
            "play": widgets.Play(value=0, min=0, max=0, step=1, interval=400, description="play"),
            "step": widgets.IntSlider(value=0, min=0, max=0, description="time step", style=wide),
        }
        widgets.jslink((self.controls["play"], "value"), (self.controls["step"], "value"))
        self.info = widgets.HTML()
        self.picture = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        c = self.controls
        self.ui = widgets.VBox(
            [
                widgets.HBox([c["adapter"], c["nodes"], c["clients"]]),
                widgets.HBox([c["rooms"], c["seed"]]),
                widgets.HBox([c["play"], c["step"]]),
                self.info,
                self.picture,
            ]
        )
        for name in ("adapter", "nodes", "clients", "rooms", "seed"):
            c[name].observe(self._rebuild, names="value")
        c["step"].observe(self._step, names="value")
        self.rebuild()

    def _rebuild(self, _change: Any = None) -> None:
        self.rebuild()

    def _step(self, change: Any) -> None:
        self.show(change["new"])

    def rebuild(self) -> None:
        """Run the model again with the controls' parameters, and show its last step."""
        c = self.controls
        adapter, mode = c["adapter"].value
        try:
            run = simulate(
                adapter,
                c["nodes"].value,
                c["clients"].value,
                c["rooms"].value,
                c["seed"].value,
                subscription_mode=mode,
                **self.options,
            )
        except ValueError as err:
            self.run = None
            self.info.value = f"<b>cannot run this:</b> {html.escape(str(err))}"
            return
        self.run, self._pictures = run, {}
        last = run.steps - 1
        with c["step"].hold_trait_notifications():
            c["step"].max = c["play"].max = last
        self.info.value = html.escape(run.summary())
        if c["step"].value == last:
            self.show(last)
        else:
            c["step"].value = last  # shows it

    def show(self, step: int) -> None:
        """Draw time step ``step`` of the current run."""
        if self.run is None:
            return
        step = max(0, min(step, self.run.steps - 1))
        if step not in self._pictures:
            self._pictures[step] = _png(draw_step(self.run, step))
        self.picture.value = self._pictures[step]


def explore(
    adapter: str = "redis",
    nodes: int = 3,
    clients: int = 12,
    rooms: int = 3,
    seed: int = 0,
    **options: Any,
) -> Any:
    """An interactive explorer of a :func:`simulate` run (needs ipywidgets).

    Controls: the adapter (classic Redis, sharded dynamic, sharded static),
    the numbers of nodes, clients and rooms, the seed, and a Play button with
    a slider over the run's time steps; the picture is :func:`draw_step`.
    ``options`` go to :func:`simulate`.

    Returns
    -------
    ipywidgets.VBox
        Display it (the last expression of a notebook cell).

    Raises
    ------
    ImportError
        Without ipywidgets, with the command that installs it.
    """
    return Explorer(adapter, nodes, clients, rooms, seed, **options).ui
