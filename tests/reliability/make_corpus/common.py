"""What every feed's cases share: where the corpus lives, the feeds' names, the synthetic values,
the :class:`Case` record with its ``case.yaml``, and the ``.sha256`` companions.

Pure functions of their arguments: nothing here touches the file system (the writer does).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
"""``tests/reliability/corpus/``: the committed corpus."""
MOI = "moi.household_registry"
LPC = "bli.labor_pension_contributions"
LIE = "bli.labor_insurance_enrollment"
MOA = "moa.farmer_registry"
NHIA = "nhia.insured_status"
BENEFITS = "bli.benefit_payments"

NAMES = ["王小明", "林美玲", "陳志豪", "張雅婷", "李建宏", "黃淑芬", "吳俊傑", "劉怡君", "蔡宗翰"]
ADDRESSES = ["臺北市中正區忠孝東路一段12號", "新北市板橋區文化路二段3號", "臺中市西區民生路5號",
             "高雄市苓雅區四維三路2號", "臺南市東區大學路1號", "桃園市桃園區中正路100號"]
EUDC = b"\xfa\x40"  # the first CP950 user-defined character (U+E000 in Java's MS950)
BOM = b"\xef\xbb\xbf"


@dataclass
class Case:
    """One broken delivery and what must become of it."""

    feed: str
    name: str
    issue: str | list[str]
    description: str
    file: str
    expect: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def yaml(self) -> bytes:
        doc: dict[str, Any] = {"feed": self.feed, "issue": self.issue,
                               "description": self.description, "file": self.file,
                               "files": sorted(self.files)}
        doc.update(self.extra)
        doc["expect"] = self.expect
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
        return text.encode("utf-8")


def digest_line(name: str, data: bytes) -> bytes:
    """The ``.sha256`` companion as ``sha256sum`` writes it."""
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode("ascii")


def with_digest(name: str, data: bytes) -> dict[str, bytes]:
    """A file and its companion."""
    return {name: data, f"{name}.sha256": digest_line(name, data)}


def first_bad_line(data: bytes, codec: str) -> int:
    """The first line (1-based) that does not decode with ``codec`` (no EUDC in these files,
    so Python's cp950 agrees with Java's MS950)."""
    for i, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode(codec)
        except UnicodeDecodeError:
            return i
    raise ValueError("every line decodes")


def csv_field(value: str) -> str:
    """``value`` as a CSV field: quoted (quotes doubled) when it holds a comma, a quote or a line
    break."""
    return f'"{value.replace(chr(34), chr(34) * 2)}"' if any(c in value for c in ',"\r\n') \
        else value
