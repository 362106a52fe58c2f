"""Every drawing, written to a file with real content (headless: the Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from matplotlib.figure import Figure

from roomsim import analysis, drawing
from roomsim.runner import run_scenario
from roomsim.scenario import load_scenario
from roomsim.trace import Trace

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def trace() -> Trace:
    return run_scenario(load_scenario(EXAMPLES / "quickstart.yaml")).trace


def check_png(path: Path, least: int = 10_000) -> None:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > least, len(data)


def test_delivery_graph_png_and_svg(trace: Trace, tmp_path: Path) -> None:
    """The delivery graph of a broadcast, as PNG and as SVG, names every hop's node."""
    G = analysis.delivery_graph(trace, "m4")
    size = drawing.delivery_figsize(G)
    check_png(drawing.draw_to_file(drawing.draw_delivery_graph, G, tmp_path / "m4.png", size))
    svg = drawing.draw_to_file(drawing.draw_delivery_graph, G, tmp_path / "m4.svg", size)
    text = svg.read_text()
    assert "<svg" in text
    for name in ("alice", "bob", "carol", "broker", "own message"):
        assert name in text


def test_delivery_graph_draws_on_a_given_axes(trace: Trace) -> None:
    """The drawer takes the graph first and an ``ax``, draws there, and returns it."""
    ax = Figure().subplots()
    out = drawing.draw_delivery_graph(analysis.delivery_graph(trace, "m1"), ax=ax)
    assert out is ax
    assert ax.get_title() == 'm1 ("news") from n1: room, emitted at t=20 ms'
    assert ax.get_legend() is not None


def test_membership_png(trace: Trace, tmp_path: Path) -> None:
    G = analysis.membership_graph(trace, 55)
    path = drawing.draw_to_file(
        drawing.draw_membership, G, tmp_path / "rooms.png", drawing.membership_figsize(G)
    )
    check_png(path)


def test_spacetime_png_draws_the_window_asked_for(trace: Trace, tmp_path: Path) -> None:
    data = analysis.spacetime(trace, start=0, end=100)
    ax = Figure(figsize=drawing.spacetime_figsize(data)).subplots()
    drawing.draw_spacetime(data, ax=ax)
    lo, hi = ax.get_xlim()
    assert lo < 0 and hi > 100
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "alice",
        "n1",
        "bob",
        "n2",
        "broker",
        "n3",
        "carol",
    ]
    check_png(drawing.draw_to_file(drawing.draw_spacetime, data, tmp_path / "tl.png"))


@pytest.mark.slow
def test_spacetime_of_a_large_run_draws_every_hop(tmp_path: Path) -> None:
    """A thousand arrows or more: all drawn, and quickly (one batch per style)."""
    clients = "\n".join(f"  - {{name: c{i}, node: n{1 + i % 3}, rooms: [r]}}" for i in range(200))
    emits = "\n".join(
        f"  - {{at: {5 * i}, emit: {{id: e{i}, from: n{1 + i % 3}, to: [r], event: x}}}}"
        for i in range(1, 8)
    )
    from roomsim.scenario import parse_scenario

    big = run_scenario(
        parse_scenario(
            "cluster: {nodes: 3, adapter: redis}\nlatency: {client_ms: 5, adapter_ms: 2}\n"
            f"clients:\n{clients}\ntimeline:\n{emits}\n"
        )
    ).trace
    data = analysis.spacetime(big)
    assert len(data.hops) > 1400
    ax = Figure().subplots()
    drawing.draw_spacetime(data, ax=ax)
    arrows = sum(len(q.U) for q in ax.collections if hasattr(q, "U"))
    assert arrows == len(data.hops)
    check_png(drawing.draw_to_file(drawing.draw_spacetime, data, tmp_path / "big.png", (12, 20)))


def test_metrics_pngs(trace: Trace, tmp_path: Path) -> None:
    check_png(
        drawing.draw_to_file(
            drawing.draw_latency_cdf, analysis.latency_cdf(trace), tmp_path / "l.png"
        )
    )
    check_png(
        drawing.draw_to_file(
            drawing.draw_broker_traffic, analysis.broker_traffic(trace), tmp_path / "b.png"
        )
    )
    check_png(
        drawing.draw_to_file(drawing.draw_node_load, analysis.node_load(trace), tmp_path / "n.png")
    )


@pytest.mark.slow
def test_animation_gif_and_inline_html(trace: Trace, tmp_path: Path) -> None:
    """A GIF written with Pillow (no ffmpeg), one frame per time bin; HTML for notebooks."""
    frames = analysis.delivery_frames(trace, max_frames=20)
    path = drawing.save_animation(drawing.animate_deliveries(frames), tmp_path / "run.gif")
    data = path.read_bytes()
    assert data.startswith(b"GIF8") and len(data) > 10_000
    from PIL import Image

    with Image.open(path) as gif:
        assert gif.n_frames == len(frames) <= 20
    html = drawing.animate_deliveries(analysis.delivery_frames(trace, max_frames=4)).to_jshtml()
    assert "<script" in html and "data:image/png;base64" in html


def test_pyplot_is_used_only_without_an_axes(trace: Trace) -> None:
    """Without ``ax`` a drawer opens a pyplot figure (as NetworkX's do), headless here."""
    import matplotlib.pyplot as plt

    ax = drawing.draw_node_load(analysis.node_load(trace))
    assert ax.figure in [plt.figure(n) for n in plt.get_fignums()]
    plt.close("all")


def test_nothing_is_left_when_saving_fails(trace: Trace, tmp_path: Path) -> None:
    """A drawing that fails leaves no file, not even a temporary one."""

    def broken(data: object, ax: object = None) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        drawing.draw_to_file(broken, None, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []
