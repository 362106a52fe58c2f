"""Pictures everyone can read: the outcome colours stay apart under colour-vision
deficiencies, and the "who got which message" grid tells outcomes apart without colour.

The deficiencies are simulated with colorspacious (Machado et al., severity 100);
differences are CAM02-UCS ΔE, where about 10 is clearly visible side by side.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

import roomsim
from roomsim.drawing.colours import FATE_COLOURS, FATE_LINESTYLES, FATE_MARKERS, OUTCOME_COLOURS

colorspacious = pytest.importorskip("colorspacious")
np = pytest.importorskip("numpy")

#: The least ΔE between two outcome colours, for everyone.
MIN_DELTA_E = 20.0
DEFICIENCIES = ("deuteranomaly", "protanomaly")
#: The fates a delivery graph tells apart among clients, among nodes and among hops
#: (the broker's "published" is alone of its kind; "origin" is the title's node).
GRAPH_FATES = ("sender", "relayed", "discarded", "ignored", "dropped", "delivered")


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def _seen(colour: str, deficiency: str | None) -> np.ndarray:
    if deficiency is None:
        return _rgb(colour)
    space = {"name": "sRGB1+CVD", "cvd_type": deficiency, "severity": 100}
    return np.clip(colorspacious.cspace_convert(_rgb(colour), space, "sRGB1"), 0, 1)


def _delta_e(a: str, b: str, deficiency: str | None) -> float:
    return float(colorspacious.deltaE(_seen(a, deficiency), _seen(b, deficiency), "sRGB1"))


def _luminance(colour: str) -> float:
    rgb = _rgb(colour)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


@pytest.mark.parametrize("deficiency", [None, *DEFICIENCIES])
@pytest.mark.parametrize(
    ("palette", "names"),
    [
        (OUTCOME_COLOURS, tuple(OUTCOME_COLOURS)),
        (FATE_COLOURS, ("delivered", "dropped", "discarded")),
        (FATE_COLOURS, GRAPH_FATES),
    ],
    ids=["outcome grid", "fates", "delivery graph"],
)
def test_outcome_colours_stay_apart(
    palette: dict[str, str], names: tuple[str, ...], deficiency: str | None
) -> None:
    """Every two outcome colours differ by at least MIN_DELTA_E, as seen with normal
    vision and with simulated deuteranopia and protanopia."""
    for a, b in itertools.combinations(names, 2):
        assert _delta_e(palette[a], palette[b], deficiency) >= MIN_DELTA_E, (a, b, deficiency)


def test_the_old_green_and_red_would_fail() -> None:
    """The test can fail: the former green/red pair is about 12 apart under deuteranopia."""
    assert _delta_e("#2e8b57", "#c0392b", "deuteranomaly") < MIN_DELTA_E


def test_delivered_and_dropped_differ_in_lightness_too() -> None:
    """Delivered and dropped keep a luminance contrast of at least 3:1 (WCAG's figure for
    graphics), so they stay apart in grey print as well."""
    light, dark = sorted(
        (_luminance(OUTCOME_COLOURS["delivered"]), _luminance(OUTCOME_COLOURS["dropped"]))
    )
    assert (dark + 0.05) / (light + 0.05) >= 3.0


def test_the_grid_marks_each_outcome_with_a_glyph_and_gridlines() -> None:
    """Each delivered cell carries a dot and each dropped cell a cross, at that cell
    (a cue that needs no colour); dropped cells are hatched; gridlines separate cells."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from roomsim.drawing import draw_outcomes

    sim = roomsim.Cluster(nodes=1, client_ms=5)
    sim.connect("alice", node="n1", rooms=["r"])
    bob = sim.connect("bob", node="n1", rooms=["r"])
    sim.connect("carol", node="n1")

    def timeline(env):  # m1 to r; bob closes while m2 is on its way; m3 to everyone
        sim.io("n1").to("r").emit("x")
        yield env.timeout(7)
        sim.io("n1").to("r").emit("x")
        yield env.timeout(1)
        bob.disconnect()
        yield env.timeout(10)
        sim.io("n1").emit("x")

    sim.process(timeline)
    sim.run()
    records = list(sim.trace)
    delivered = set(sim.trace.deliveries())
    dropped = {(r["msg"], r["client"]) for r in sim.trace.records("drop") if "client" in r}
    assert delivered and dropped
    ax = Figure().subplots()
    draw_outcomes(records, ax=ax)
    msgs = [t.get_text() for t in ax.get_xticklabels()]
    clients = [t.get_text() for t in ax.get_yticklabels()]

    def cells(pairs: set[tuple[str, str]]) -> set[tuple[int, int]]:
        return {(msgs.index(m), clients.index(c)) for m, c in pairs}

    marked = {
        c.get_gid().removeprefix("outcome:"): c
        for c in ax.collections
        if (c.get_gid() or "").startswith("outcome:")
    }
    offsets = {
        name: {(round(x), round(y)) for x, y in c.get_offsets()} for name, c in marked.items()
    }
    shapes = [c.get_paths()[0].vertices for c in marked.values()]
    assert len(shapes) == 2 and not (
        shapes[0].shape == shapes[1].shape and np.allclose(shapes[0], shapes[1])
    ), "delivered and dropped must have different glyphs"
    marked = offsets
    assert marked.get("delivered") == cells(delivered)
    assert marked.get("dropped") == cells(dropped)
    hatched = {
        (round(p.get_x() + 0.5), round(p.get_y() + 0.5)) for p in ax.patches if p.get_hatch()
    }
    assert hatched == cells(dropped)
    minor = ax.xaxis.get_minor_ticks()
    assert len(minor) == len(msgs) - 1 and all(t.gridline.get_visible() for t in minor)


def _graph(example: str, msg: str) -> tuple[Any, Any]:
    from roomsim.analysis import delivery_graph
    from roomsim.examples import path
    from roomsim.runner import run_scenario
    from roomsim.scenario import load_scenario

    trace = run_scenario(load_scenario(path(example))).trace
    return delivery_graph(trace, msg), trace


@pytest.mark.parametrize(("example", "msg"), [("quickstart", "m2"), ("disconnection", "in-flight")])
def test_the_delivery_graph_marks_each_fate_with_a_glyph(example: str, msg: str) -> None:
    """Every client and node of a delivery graph carries its fate's glyph at its
    place (a dot delivered, a cross dropped, a dash discarded, ...), and two
    fates never share a glyph: the graph reads without colour."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from roomsim.drawing import cluster_layout, draw_delivery_graph

    G, _ = _graph(example, msg)
    ax = draw_delivery_graph(G, ax=Figure().subplots())
    pos = cluster_layout(G)
    glyphs = {
        c.get_gid().removeprefix("fate:"): c
        for c in ax.collections
        if (c.get_gid() or "").startswith("fate:")
    }
    at: dict[str, set[tuple[float, float]]] = {}
    for key, data in G.nodes(data=True):
        if FATE_MARKERS.get(data["fate"]):
            at.setdefault(data["fate"], set()).add(tuple(map(float, pos[key])))
    assert len(at) >= 3, at  # the examples show at least three fates
    for fate, places in at.items():
        drawn = [c for c in ax.collections if c.get_gid() == f"fate:{fate}"]
        assert {tuple(map(float, xy)) for c in drawn for xy in c.get_offsets()} == places
    shapes = {fate: c.get_paths()[0].vertices for fate, c in glyphs.items()}
    for a, b in itertools.combinations(shapes, 2):
        same = shapes[a].shape == shapes[b].shape and np.allclose(shapes[a], shapes[b])
        assert not same, f"{a} and {b} share a glyph"


def test_the_delivery_graph_draws_each_hop_fate_in_its_own_line_style() -> None:
    """A dropped hop is dashed, an ignored copy dotted, a discarded one dash-dot,
    the others solid: every arrow of a fate has its fate's style, and the four
    styles differ."""
    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_hex
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch

    from roomsim.drawing import draw_delivery_graph

    styles: dict[str, set[object]] = {}
    for example, msg in (
        ("quickstart", "m1"),
        ("quickstart", "m2"),
        ("disconnection", "in-flight"),
    ):
        G, _ = _graph(example, msg)
        ax = draw_delivery_graph(G, ax=Figure().subplots())
        arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
        assert len(arrows) == G.number_of_edges()
        by_colour = {FATE_COLOURS[d["fate"]]: d["fate"] for *_, d in G.edges(data=True)}
        for arrow in arrows:
            fate = by_colour[to_hex(arrow.get_edgecolor())]
            styles.setdefault(fate, set()).add(arrow.get_linestyle())
    assert {"delivered", "dropped", "ignored", "discarded"} <= set(styles), styles
    assert all(len(found) == 1 for found in styles.values()), styles
    for fate in ("dropped", "ignored", "discarded"):
        assert styles[fate] == {FATE_LINESTYLES[fate]}
    assert len({next(iter(styles[f])) for f in ("delivered", *FATE_LINESTYLES)}) == 4
