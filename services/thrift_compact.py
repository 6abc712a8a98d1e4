"""A generic reader and writer of Thrift's compact protocol, enough for Parquet footers.

A Parquet file's footer (``FileMetaData``) is a Thrift struct in the compact protocol. To splice
the row groups of several Parquet files into one (:mod:`services.parquet_splice`) the footer is
read, a few offsets are changed, and it is written again; pyarrow can read a footer but not
write a changed one. This module decodes a struct into plain Python values *without a schema*
and encodes it back byte for byte (a round trip of an unchanged struct gives the same bytes; a
test checks it on footers written by Spark and by pyarrow).

The model: a struct is a list of :class:`Field` in wire order (``fid``, ``ttype``, ``value``);
values are ``int`` (bytes, i16, i32, i64), ``bool``, ``float`` (double), ``bytes`` (binary and
strings), :class:`ThriftList` (lists and sets) and nested structs (``list[Field]``). Maps are
refused (:class:`ThriftError`): no Parquet footer structure holds one. So is any input that ends
early or holds an unknown type code.
"""

from __future__ import annotations

import struct as _struct
from dataclasses import dataclass
from typing import Final, TypeAlias

STOP: Final = 0
TRUE: Final = 1
FALSE: Final = 2
BYTE: Final = 3
I16: Final = 4
I32: Final = 5
I64: Final = 6
DOUBLE: Final = 7
BINARY: Final = 8
LIST: Final = 9
SET: Final = 10
MAP: Final = 11
STRUCT: Final = 12
_INTS: Final = frozenset({BYTE, I16, I32, I64})


class ThriftError(ValueError):
    """Bytes that are not a compact-protocol struct this module can read."""


@dataclass
class ThriftList:
    """A list or set: ``etype`` the element type code, ``items`` the values."""

    etype: int
    items: list[Value]
    ttype: int = LIST


@dataclass
class Field:
    """One field of a struct: ``fid`` its id, ``ttype`` its type code (``TRUE``/``FALSE``
    for a boolean, whose value is the bool), ``value``."""

    fid: int
    ttype: int
    value: Value


Value: TypeAlias = int | bool | float | bytes | ThriftList | list[Field]


def _zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def _unzigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


class _Reader:
    """A cursor over the input bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise ThriftError("the Thrift struct ends early")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 70:
                raise ThriftError("a Thrift varint is too long")

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ThriftError("the Thrift struct ends early")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def value(self, ttype: int) -> Value:
        if ttype in _INTS:
            if ttype == BYTE:
                b = self.byte()
                return b - 256 if b > 127 else b
            return _unzigzag(self.varint())
        if ttype == DOUBLE:
            return float(_struct.unpack("<d", self.take(8))[0])
        if ttype == BINARY:
            return self.take(self.varint())
        if ttype in (LIST, SET):
            head = self.byte()
            size, etype = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            if etype in (TRUE, FALSE):
                return ThriftList(etype, [self.byte() == TRUE for _ in range(size)], ttype)
            return ThriftList(etype, [self.value(etype) for _ in range(size)], ttype)
        if ttype == STRUCT:
            return self.struct()
        raise ThriftError(f"Thrift type code {ttype} is not supported")

    def struct(self) -> list[Field]:
        fields: list[Field] = []
        last = 0
        while True:
            head = self.byte()
            ttype = head & 0x0F
            if ttype == STOP:
                return fields
            delta = head >> 4
            fid = last + delta if delta else _unzigzag(self.varint())
            value: Value = ttype == TRUE if ttype in (TRUE, FALSE) else self.value(ttype)
            fields.append(Field(fid, ttype, value))
            last = fid


def decode(data: bytes) -> tuple[list[Field], int]:
    """The struct at the start of ``data`` and the number of bytes it took."""
    reader = _Reader(data)
    fields = reader.struct()
    return fields, reader.pos


class _Writer:
    """Collects the encoded bytes."""

    def __init__(self) -> None:
        self.out = bytearray()

    def varint(self, n: int) -> None:
        while n > 0x7F:
            self.out.append((n & 0x7F) | 0x80)
            n >>= 7
        self.out.append(n)

    def value(self, ttype: int, value: Value) -> None:
        if ttype == BYTE:
            assert isinstance(value, int)
            self.out.append(value & 0xFF)
        elif ttype in _INTS:
            assert isinstance(value, int)
            self.varint(_zigzag(value))
        elif ttype == DOUBLE:
            assert isinstance(value, float)
            self.out += _struct.pack("<d", value)
        elif ttype == BINARY:
            assert isinstance(value, bytes)
            self.varint(len(value))
            self.out += value
        elif ttype in (LIST, SET):
            assert isinstance(value, ThriftList)
            self.sequence(value)
        elif ttype == STRUCT:
            assert isinstance(value, list)
            self.struct(value)
        else:
            raise ThriftError(f"Thrift type code {ttype} is not supported")

    def sequence(self, value: ThriftList) -> None:
        size = len(value.items)
        self.out.append((min(size, 15) << 4) | value.etype)
        if size >= 15:
            self.varint(size)
        for item in value.items:
            if value.etype in (TRUE, FALSE):
                self.out.append(TRUE if item else FALSE)
            else:
                self.value(value.etype, item)

    def struct(self, fields: list[Field]) -> None:
        last = 0
        for f in fields:
            ttype = (TRUE if f.value else FALSE) if f.ttype in (TRUE, FALSE) else f.ttype
            delta = f.fid - last
            if 0 < delta <= 15:
                self.out.append((delta << 4) | ttype)
            else:
                self.out.append(ttype)
                self.varint(_zigzag(f.fid))
            if ttype not in (TRUE, FALSE):
                self.value(ttype, f.value)
            last = f.fid
        self.out.append(STOP)


def encode(fields: list[Field]) -> bytes:
    """The compact-protocol bytes of the struct ``fields``."""
    writer = _Writer()
    writer.struct(fields)
    return bytes(writer.out)


def get(fields: list[Field], fid: int) -> Field | None:
    """The field ``fid`` of a struct, or ``None``."""
    return next((f for f in fields if f.fid == fid), None)
