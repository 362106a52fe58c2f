"""Sweeps: one scenario, a grid of parameters, several seeds, run in parallel on Dask.

A sweep spec is a small YAML file::

    scenario: big.json              # the base scenario (path relative to the spec)
    grid:                           # dotted keys of the scenario -> the values to try
      cluster.nodes: [2, 4, 8]
      latency.adapter_ms: [0.5, 2]
    seeds: 3                        # 0, 1, 2 (or a list of seeds)
    out: results.csv                # .csv or .parquet (relative to the spec)

Every grid point is run with every seed; each run gives one row of
:func:`roomsim.analysis.run_metrics` plus its parameters and seed.  Runs go
to a Dask cluster (a local one by default); Dask is the optional ``sweep``
extra.  Rows come back in grid order whatever order the runs finish in.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import signal
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "SweepSpec",
    "SweepSpecError",
    "chunks",
    "expand_grid",
    "load_sweep_spec",
    "run_point",
    "run_points",
    "sweep",
]


class SweepSpecError(ValueError):
    """A sweep spec that cannot be used; its text is one line naming file and key."""


@dataclass(frozen=True)
class SweepSpec:
    """A loaded sweep spec: the base scenario file, the grid, the seeds, the output."""

    scenario: Path
    grid: dict[str, list[Any]]
    seeds: int | list[int]
    out: Path | None


def load_sweep_spec(path: str | Path) -> SweepSpec:
    """Read and check a sweep spec, the scenario it names, and every grid point.

    The spec and the scenario are read as ``roomsim run`` reads a scenario
    (YAML 1.2: a room ``no`` is the text ``'no'``); a grid point that makes the
    scenario invalid is refused in one line naming the point and the key.
    """
    from roomsim.scenario import ScenarioError, load_scenario
    from roomsim.scenario.loading import scenario_data

    path = Path(path)
    try:
        data = scenario_data(path)
    except ScenarioError as err:
        raise SweepSpecError(str(err)) from None
    if not isinstance(data, dict):
        raise SweepSpecError(f"{path}: expected a mapping with scenario, grid, seeds, out")
    unknown = set(data) - {"scenario", "grid", "seeds", "out"}
    if unknown:
        raise SweepSpecError(f"{path}: {sorted(unknown)[0]}: unknown key")
    if not isinstance(data.get("scenario"), str):
        raise SweepSpecError(f"{path}: scenario: expected the path of a scenario file")
    grid = data.get("grid") or {}
    if not isinstance(grid, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and v for k, v in grid.items()
    ):
        raise SweepSpecError(f"{path}: grid: expected dotted keys, each with a list of values")
    seeds = data.get("seeds", 1)
    if not (isinstance(seeds, int) and seeds >= 1) and not (
        isinstance(seeds, list) and seeds and all(isinstance(s, int) for s in seeds)
    ):
        raise SweepSpecError(f"{path}: seeds: expected a number of seeds or a list of seeds")
    out = data.get("out")
    if out is not None and not isinstance(out, str):
        raise SweepSpecError(f"{path}: out: expected the path of a .csv or .parquet file")
    scenario = path.parent / data["scenario"]
    load_scenario(scenario)  # the scenario itself, with its lines, then each grid point
    base = scenario_data(scenario)
    for point in expand_grid(grid, [0]):
        _changed(base, point, str(scenario))
    return SweepSpec(scenario, grid, seeds, path.parent / out if out else None)


def _set(data: dict[str, Any], dotted: str, value: Any, where: str) -> None:
    from roomsim.scenario import ScenarioError

    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ScenarioError(where, f"{key!r} is not a mapping in the scenario", key=dotted)
    node[last] = value


def expand_grid(
    grid: Mapping[str, Sequence[Any]], seeds: int | Iterable[int]
) -> list[dict[str, Any]]:
    """Every combination of the grid's values, times every seed, in order.

    Examples
    --------
    >>> expand_grid({"cluster.nodes": [2, 4]}, seeds=2)  # doctest: +NORMALIZE_WHITESPACE
    [{'cluster.nodes': 2, 'seed': 0}, {'cluster.nodes': 2, 'seed': 1},
     {'cluster.nodes': 4, 'seed': 0}, {'cluster.nodes': 4, 'seed': 1}]
    """
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    keys = list(grid)
    points = []
    for values in itertools.product(*(grid[k] for k in keys)):
        for seed in seed_list:
            points.append({**dict(zip(keys, values, strict=True)), "seed": seed})
    return points


def _changed(base: Mapping[str, Any], point: Mapping[str, Any], source: str) -> Any:
    """The scenario ``base`` with the grid values of ``point``, validated."""
    from roomsim.scenario import scenario_from_dict

    data = copy.deepcopy(dict(base))
    changes = {k: v for k, v in point.items() if k != "seed"}
    where = f"{source} at grid point " + ", ".join(f"{k}={_short(v)}" for k, v in changes.items())
    where = where if changes else source
    for key, value in changes.items():
        _set(data, key, value, where)
    return scenario_from_dict(data, path=where)


def _short(value: Any) -> str:
    """A grid value as Python writes it, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:36] + "..."


def run_point(
    base: Mapping[str, Any], point: Mapping[str, Any], source: str = "<sweep>"
) -> dict[str, Any]:
    """Run the scenario ``base`` changed by ``point`` (dotted keys and ``seed``); one row."""
    from roomsim.analysis.metrics import run_metrics
    from roomsim.runner import run_scenario
    from roomsim.trace import Trace

    scenario = _changed(base, point, source)
    trace = Trace(keep=False)
    run_scenario(scenario, seed=point["seed"], trace=trace)
    return {**point, **run_metrics(trace.tally)}


def run_points(
    base: Mapping[str, Any], points: Sequence[Mapping[str, Any]], source: str = "<sweep>"
) -> list[dict[str, Any]]:
    """:func:`run_point` for each of ``points``, in order: one Dask task for a chunk of runs."""
    return [run_point(base, point, source) for point in points]


def chunks(count: int, workers: int, per_worker: int = 4) -> list[range]:
    """Split ``count`` runs into consecutive chunks, about ``per_worker`` per worker.

    Many short runs then cost a few tasks, not one each, and the last chunks
    are small enough to keep every worker busy to the end.

    Examples
    --------
    >>> [list(c) for c in chunks(5, workers=2, per_worker=1)]
    [[0, 1, 2], [3, 4]]
    >>> [len(c) for c in chunks(12, workers=2)], len(chunks(1000, workers=2))
    ([2, 2, 2, 2, 1, 1, 1, 1], 8)
    """
    parts = max(1, min(count, workers * per_worker))
    size, extra = divmod(count, parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(range(start, end))
        start = end
    return out


def sweep(
    scenario: Mapping[str, Any] | str | Path,
    grid: Mapping[str, Sequence[Any]],
    seeds: int | Iterable[int] = 1,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> Any:
    """Run a grid of parameters times seeds on Dask; return a pandas DataFrame.

    Parameters
    ----------
    scenario : mapping or path
        The base scenario (a mapping as in a scenario file, or a file).
    grid : mapping
        Dotted scenario keys (``"cluster.nodes"``) to lists of values.
    seeds : int or iterable of int
        ``3`` means seeds 0, 1, 2.
    scheduler : str, optional
        Address of a running Dask scheduler; default: a local cluster of
        processes, made for this sweep and closed after it, every listener
        (the dashboard too) on 127.0.0.1 only (in a script, call ``sweep``
        under ``if __name__ == "__main__":``, as Dask's processes need).  A
        scheduler given here is trusted completely: Dask sends it and its
        workers pickles, which can run any code.
    workers : int, optional
        How many worker processes the local cluster starts (default: one per
        core).  The runs go in chunks, about four per worker thread, so that
        many short runs do not pay a task each and no worker idles at the end.
    progress : bool, optional
        Show a progress bar (default: when standard error is a terminal).
    """
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as err:  # pragma: no cover - depends on the extra
        raise ImportError("sweeps need Dask: python -m pip install 'roomsim[sweep]'") from err
    import pandas as pd
    from tqdm.auto import tqdm

    source = "<sweep>"
    if not isinstance(scenario, Mapping):
        from roomsim.scenario import load_scenario

        source = str(scenario)
        load_scenario(scenario)  # refuse a bad file before starting any worker
        scenario = _read_mapping(Path(scenario))
    points = expand_grid(grid, seeds)
    for point in expand_grid(grid, [0]):  # refuse a bad grid before starting any worker
        _changed(scenario, point, source)
    cluster = client = None
    try:
        if scheduler is None:
            with _ctrl_c_held():
                cluster = _local_cluster(LocalCluster, workers)
        client = Client(scheduler if scheduler is not None else cluster)
        cores = sum(client.nthreads().values()) or 1
        # the scenario goes to each worker once, not with every task
        [base] = client.scatter([dict(scenario)], broadcast=True, hash=False)
        parts = chunks(len(points), cores)
        futures = [
            client.submit(run_points, base, [points[i] for i in part], source, pure=False)
            for part in parts
        ]
        order = {f.key: part for f, part in zip(futures, parts, strict=True)}
        rows: list[dict[str, Any] | None] = [None] * len(points)
        with tqdm(
            total=len(points), unit="run", disable=None if progress is None else not progress
        ) as bar:
            for future in as_completed(futures):
                part = order[future.key]
                for i, row in zip(part, future.result(), strict=True):
                    rows[i] = row
                bar.update(len(part))
    except BaseException:
        _close(client, cluster, quietly=True)  # the first error is the one to see
        raise
    _close(client, cluster)
    return pd.DataFrame(rows)


def _local_cluster(cls: Any, workers: int | None) -> Any:
    """A Dask cluster of local processes listening on 127.0.0.1 only, dashboard included.

    Dask's workers take pickles from the scheduler: a listener on another
    interface would let anyone who can reach it run code as this user.
    """
    import logging

    import dask

    # the workers' statistical profiler samples the running thread every 10 ms:
    # time taken from the runs, for a dashboard a sweep does not look at
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        return cls(
            n_workers=workers,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            worker_dashboard_address=None,
            silence_logs=logging.CRITICAL,  # a failed run shows as the sweep's own error
        )


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Ignore SIGINT while Dask starts its worker processes (a second or two).

    Ctrl-C in a terminal goes to the whole process group.  Worker processes
    started meanwhile inherit the ignored signal, so only this process
    answers Ctrl-C, by closing the cluster (and with it every worker); a
    Ctrl-C pressed while the cluster starts is lost (press it again).
    """
    hold = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if hold else None
    try:
        yield
    finally:
        if hold:
            signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def _close(client: Any, cluster: Any, *, quietly: bool = False) -> None:
    """Close the client, then the local cluster (its worker processes end with it)."""
    for thing in (client, cluster):
        if thing is None:
            continue
        try:
            thing.close()
        except Exception:
            if not quietly:
                raise


def _read_mapping(path: Path) -> dict[str, Any]:
    """The scenario file's data, read exactly as ``roomsim run`` reads it (YAML 1.2)."""
    from roomsim.scenario.loading import scenario_data

    return scenario_data(path)
