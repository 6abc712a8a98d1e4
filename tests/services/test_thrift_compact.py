"""The compact-protocol codec on real Parquet footers and on hand-made structs."""

from __future__ import annotations

import io
import struct

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from services import thrift_compact as tc
from services.thrift_compact import Field, ThriftList


def footer_of(data: bytes) -> bytes:
    """The Thrift bytes of a Parquet file's footer."""
    length = struct.unpack("<I", data[-8:-4])[0]
    return data[-8 - length:-8]


def parquet(**options: object) -> bytes:
    """A small Parquet file written by pyarrow with ``options``."""
    table = pa.table({"key": [f"{i:064x}" for i in range(3000)],
                      "n": pa.array(range(3000), pa.int64()),
                      "x": pa.array([i / 7 for i in range(3000)], pa.float64()),
                      "flag": [i % 3 == 0 for i in range(3000)]})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=1000, **options)  # type: ignore[arg-type]
    return sink.getvalue()


@pytest.mark.parametrize("options", [
    {}, {"write_statistics": False}, {"write_page_index": True, "compression": "zstd"},
    {"use_dictionary": False, "data_page_version": "2.0"}])
def test_a_parquet_footer_round_trips_byte_for_byte(options: dict[str, object]) -> None:
    raw = footer_of(parquet(**options))
    fields, used = tc.decode(raw)
    assert used == len(raw)
    assert tc.encode(fields) == raw
    rows = tc.get(fields, 3)
    assert rows is not None and rows.value == 3000
    groups = tc.get(fields, 4)
    assert groups is not None and isinstance(groups.value, ThriftList)
    assert len(groups.value.items) == 3


def test_every_value_kind_round_trips() -> None:
    inner = [Field(1, tc.BINARY, b"k"), Field(2, tc.TRUE, True), Field(3, tc.FALSE, False)]
    fields = [
        Field(1, tc.BYTE, -5), Field(2, tc.I16, -300), Field(3, tc.I32, 2**31 - 1),
        Field(4, tc.I64, -(2**62)), Field(5, tc.DOUBLE, 1.5), Field(6, tc.BINARY, "台".encode()),
        Field(40, tc.STRUCT, inner),  # a field id jump over 15 takes the long header
        Field(41, tc.LIST, ThriftList(tc.I32, list(range(20)))),  # 15 or more: a varint size
        Field(42, tc.SET, ThriftList(tc.TRUE, [True, False, True], tc.SET)),
        Field(43, tc.LIST, ThriftList(tc.STRUCT, [inner, []])),
    ]
    data = tc.encode(fields)
    back, used = tc.decode(data + b"trailing bytes are not read")
    assert used == len(data)
    assert back == fields


@pytest.mark.parametrize("data", [b"", b"\x15", b"\x18\x05ab", b"\x1b\x00", b"\x1d"])
def test_bytes_that_end_early_or_hold_a_map_are_refused(data: bytes) -> None:
    with pytest.raises(tc.ThriftError):
        tc.decode(data)


def test_an_overlong_varint_is_refused() -> None:
    with pytest.raises(tc.ThriftError, match="too long"):
        tc.decode(b"\x15" + b"\xff" * 12)
