"""The fast JSON Lines reader (deliveries read in batches) gives the same
records, the same DataFrame and the same errors as parsing every line as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from roomsim.analysis.jsonl import DeliveryBatch, TraceFileError, TraceReader, expand
from roomsim.trace import Trace

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "roomsim" / "examples" / "golden"

#: lines the run does not write but a trace file may hold: escapes, other
#: number forms, spaces, CRLF, blank lines, kinds the goldens lack
ODD_LINES = [
    '{"t":7,"kind":"client_emit","msg":"c1","client":"ana","node":"n1","event":"hi"}',
    '{"t":7.5,"kind":"receive","msg":"c1","client":"ana","node":"n1","event":"hi"}',
    '{"t":8,"kind":"deliver","msg":"m\\u00e9","client":"b\\"ob","node":"n1","event":"e"}',
    '{"t":8,"kind":"deliver","msg":"m1","client":"zoé","node":"n1","event":"e"}',
    '{"t":8,"kind":"deliver","msg":"m1","client":"zoé","node":"n1","event":"e"}\r',
    '{"t":8.0,"kind":"deliver","msg":"m1","client":"yan","node":"n1","event":"e"}',
    '{"t":1e1,"kind":"deliver","msg":"m1","client":"xi","node":"n1","event":"e"}',
    '{"t":-0,"kind":"deliver","msg":"m1","client":"xi","node":"n2","event":"e"}',
    "",
    '{ "t": 9, "kind": "deliver", "msg": "m1", "client": "w", "node": "n1", "event": "e" }',
    '{"t":9,"kind":"deliver","msg":"m1","client":"w","node":"n1","event":"e","extra":1}',
    '{"t":9,"kind":"deliver","msg":"m1","node":"n1","client":"v","event":"e"}',
    '{"t":10,"kind":"drop","msg":"m1","client":"w","node":"n1","reason":"loss"}',
]


def _every_kind(tmp_path: Path) -> Path:
    """The golden traces one after another, then the odd lines: every record kind."""
    lines = []
    for golden in sorted(GOLDEN.glob("*.jsonl")):
        lines += golden.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "every.jsonl"
    path.write_bytes(("\n".join(lines + ODD_LINES) + "\n").encode("utf-8"))
    return path


def _plain(path: Path) -> list[dict[str, object]]:
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _typed(records: object) -> list[str]:
    """Each record as JSON text: keys, their order, and int against float all count."""
    return [json.dumps(r) for r in records]  # type: ignore[attr-defined]


def test_the_batched_reader_gives_every_record_as_json_does(tmp_path: Path) -> None:
    """Expanding the batches gives the records json.loads gives line by line,
    keys in order and 1 apart from 1.0; runs of deliveries of one message,
    node, event and time come as batches, and odd lines are parsed as JSON."""
    path = _every_kind(tmp_path)
    expected = _plain(path)
    kinds = {r["kind"] for r in expected}
    assert {"connect", "join", "leave", "emit", "publish", "relay", "deliver", "drop"} <= kinds
    assert {"disconnecting", "disconnect", "client_emit", "receive", "error", "pick"} <= kinds
    items = list(TraceReader(path).items())
    assert any(isinstance(x, DeliveryBatch) and len(x.clients) > 1 for x in items)
    assert _typed(expand(items)) == _typed(expected)
    assert _typed(TraceReader(path)) == _typed(expected)
    assert _typed(Trace.read_jsonl(path)) == _typed(expected)


def test_draw_reads_the_same_trace_fast_and_plain(tmp_path: Path) -> None:
    """``roomsim draw`` loads the same records and counts as a trace built from
    every line parsed as JSON."""
    from roomsim.draw_commands import load_trace

    path = _every_kind(tmp_path)
    fast, plain = load_trace(path), Trace.from_records(_plain(path))
    assert _typed(fast) == _typed(plain)
    assert len(fast) == len(plain)
    assert fast.tally.kinds == plain.tally.kinds
    assert fast.tally.deliveries_by_node == plain.tally.deliveries_by_node
    assert fast.tally.clients == plain.tally.clients
    assert fast.tally.end_time == plain.tally.end_time


def test_the_fast_dataframe_is_the_plain_one(tmp_path: Path) -> None:
    """read_trace, built in one pass of columns, equals pandas' DataFrame of
    every record (the same columns in the same order, values and dtypes)."""
    pd = pytest.importorskip("pandas")
    from roomsim.analysis.dataframe import _tidy, read_trace

    path = _every_kind(tmp_path)
    fast = read_trace(path)
    plain = _tidy(pd.DataFrame.from_records(_plain(path)))
    pd.testing.assert_frame_equal(fast, plain)
    assert len(fast) == len(_plain(path)) and "targets" in fast and "to" in fast


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (
            '{"t":1e999,"kind":"deliver","msg":"m","client":"a","node":"n1","event":"e"}',
            'not a trace record: expected a JSON object with "t"',
        ),
        ('{"t":1,"kind":"deliver","msg":"m","client":"a","node":"n1","event":"e"', "not JSON"),
    ],
)
def test_a_bad_line_among_deliveries_gets_the_plain_readers_error(
    tmp_path: Path, line: str, says: str
) -> None:
    """A line that looks like a delivery but is not a valid record is refused
    with the same one-line error, naming its line, as the plain reader gives."""
    good = '{"t":1,"kind":"deliver","msg":"m","client":"a","node":"n1","event":"e"}'
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{good}\n{good}\n{line}\n", encoding="utf-8")
    with pytest.raises(TraceFileError) as plain:
        list(TraceReader(path))
    with pytest.raises(TraceFileError) as fast:
        list(TraceReader(path).items())
    assert str(fast.value) == str(plain.value)
    assert f"{path}:3: " in str(fast.value) and says in str(fast.value)


def test_a_parquet_trace_read_in_batches_gives_the_same_records(tmp_path: Path) -> None:
    """Reading a Parquet trace with its deliveries in batches (as ``roomsim draw``
    does) gives, expanded, the records read row by row, keys in order (a
    whole time such as 8.0 reads back as 8 either way: Parquet keeps floats)."""
    pytest.importorskip("pyarrow")
    from roomsim.trace_parquet import ParquetSink, parquet_records

    records = _plain(_every_kind(tmp_path))
    path = tmp_path / "every.parquet"
    with path.open("wb") as out:
        sink = ParquetSink(out, row_group=64)  # runs of deliveries cross row groups
        for rec in records:
            sink.add(rec)
        sink.close()
    items = list(parquet_records(path, batched=True))
    assert any(isinstance(x, tuple) and len(x[4]) > 1 for x in items)
    assert _typed(Trace.from_records(items)) == _typed(parquet_records(path))
    assert _typed(Trace.read(path)) == _typed(parquet_records(path))
    assert len(Trace.read(path)) == len(records)
