"""Helpers shared by the readers."""

from __future__ import annotations

from typing import Any, cast

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.bronze import CORRUPT, has_control_characters
from kernel.contracts import FeedContract
from kernel.errors import DeliveryError
from kernel.storage import Storage

ROW_BITS = (1 << 33) - 1
"""``monotonically_increasing_id`` keeps the partition index above bit 33: the low bits count
rows within one partition (one file read as one partition keeps file order)."""


def check_charset(storage: Storage, path: str, contract: FeedContract) -> None:
    """Refuse a file that is not valid text in the contract's charset (strict decoding),
    naming the line of the first bad byte; ``path`` may be a glob (each file is checked, and
    the reason names the file too).

    The decoding runs in the driver's JVM (:func:`first_undecodable_line`), never in a Spark
    task: a task failing on purpose would have Spark log its stack trace on the console."""
    cs = contract.delivery.java_charset
    glob = any(c in path for c in "*?[{")
    if glob and cs == "UTF-8":
        # Many small files (an API's pages): one Spark job finds the invalid ones (without
        # failing), the driver then names the line in the first of them.
        bad = (storage.spark.read.format("binaryFile").load(path)
               .where(~F.is_valid_utf8(F.col("content").cast("string")))
               .select("path").collect())
        files = sorted(str(r["path"]) for r in bad)
    else:
        jvm = cast(Any, storage.spark)._jvm
        conf = cast(Any, storage.spark)._jsc.hadoopConfiguration()
        pattern = jvm.org.apache.hadoop.fs.Path(path)
        found = pattern.getFileSystem(conf).globStatus(pattern) or []
        files = sorted(str(f.getPath().toString()) for f in found if f.isFile())
    for file in files:
        line = first_undecodable_line(storage, file, cs)
        if line is not None:
            name = f"{file.rsplit('/', 1)[-1]}: " if glob else ""
            raise DeliveryError(f"{name}line {line}: not valid {contract.delivery.encoding} "
                                f"text ({_encoding_hint(storage, file, cs)})")


def _encoding_hint(storage: Storage, path: str, java_charset: str) -> str:
    """Why a file may not decode, for the steward: the encoding it was delivered in when that
    is plain (a UTF-16 byte-order mark; every byte valid UTF-8, or valid CP950), else the
    generic reason. Decided in the JVM: at most the first two bytes cross to Python."""
    jvm = cast(Any, storage.spark)._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    stream = hpath.getFileSystem(cast(Any, storage.spark)._jsc.hadoopConfiguration()).open(hpath)
    try:
        head = (int(stream.read()), int(stream.read()))
    finally:
        stream.close()
    if head in ((0xFF, 0xFE), (0xFE, 0xFF)):
        return "it starts with a UTF-16 byte-order mark: delivered in UTF-16?"
    for other, label in (("UTF-8", "UTF-8"), ("MS950", "cp950 (Big5)")):
        if other != java_charset and first_undecodable_line(storage, path, other) is None:
            return f"the whole file reads as {label}: delivered in another encoding?"
    return "wrong encoding or damaged bytes"


def first_undecodable_line(storage: Storage, path: str, java_charset: str,
                           chunk: int = 1 << 20) -> int | None:
    """The line (1-based) of the first byte the JVM's decoder for ``java_charset`` refuses
    (malformed or unmappable), or ``None`` when the whole file decodes.

    Exactly the charset Spark decodes with (``MS950``: EUDC included). The file streams through
    a ``CharsetDecoder`` in the driver's JVM, ``chunk`` bytes at a time; only counts cross to
    Python (the line breaks are counted in the JVM), never the file's bytes."""
    jvm = cast(Any, storage.spark)._jvm
    nio = jvm.java.nio
    count = jvm.org.apache.commons.lang3.StringUtils.countMatches
    report = nio.charset.CodingErrorAction.REPORT
    decoder = (nio.charset.Charset.forName(java_charset).newDecoder()
               .onMalformedInput(report).onUnmappableCharacter(report))
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    stream = hpath.getFileSystem(cast(Any, storage.spark)._jsc.hadoopConfiguration()).open(hpath)
    try:
        channel = jvm.java.nio.channels.Channels.newChannel(stream)
        size = max(chunk, 16)  # room for the longest character (a buffer never stalls)
        src, out = nio.ByteBuffer.allocate(size), nio.CharBuffer.allocate(size + 2)
        line, eof = 1, False
        while not eof:
            eof = int(channel.read(src)) < 0
            src.flip()
            out.clear()
            result = decoder.decode(src, out, eof)
            out.flip()
            line += int(count(out, "\n"))  # the characters decoded before any error
            if result.isError():
                return line
            src.compact()
        out.clear()
        return line if decoder.flush(out).isError() else None
    finally:
        stream.close()


def wire_schema(contract: FeedContract) -> str:
    """The DDL of a reader's output: one string per wire field, then ``_corrupt_record``."""
    return ", ".join(f"`{f.wire}` string" for f in contract.fields) + f", {CORRUPT} string"


def source_row_in_file() -> F.Column:
    """The 1-based ordinal of a row within its (single-partition) file."""
    return (F.monotonically_increasing_id().bitwiseAND(F.lit(ROW_BITS)) + 1).alias("_source_row")


__all__ = ["DataFrame", "check_charset", "first_undecodable_line", "has_control_characters",
           "source_row_in_file", "wire_schema"]
