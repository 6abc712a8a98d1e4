"""The generator of moa.farmer_registry deliveries: format, agreement with the shared roles,
determinism and the injected issues (counted independently from the files written)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from kernel import contracts
from kernel.twid import is_valid_person_id, parse_roc_date, roc_date
from sandbox.generate import WRITERS, generate, writer
from sandbox.generate.farmers import (
    FEED_ISSUES,
    months_of,
    write_farmer_deliveries,
)
from sandbox.generate.household import IssueRates
from sandbox.generate.population import Population, build_population
from sandbox.generate.roles import roles

FEED = "moa.farmer_registry"
CONTRACT = contracts.feed(FEED)
WIRE = {f.name: f.wire for f in CONTRACT.fields}
UNTIL = WIRE["eligible_until"]
START = dt.date(2024, 10, 1)
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


def _run(tmp_path: Path, persons: int = 1500, seed: int = 11, days: int = 35,
         rates: IssueRates | None = None, start: dt.date = START):  # type: ignore[no-untyped-def]
    report = generate(tmp_path, persons=persons, seed=seed, days=days, start=start,
                      rates=rates, feeds=[FEED])
    return report.feeds[FEED]


def _records(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == "農民資料"
    assert {c.tag for c in root} == {"農民"}
    return list(root)


def _n(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def test_registered_and_one_file_per_covered_month(tmp_path):
    assert WRITERS[FEED] == "sandbox.generate.farmers:write_farmer_deliveries"
    assert writer(FEED) is write_farmer_deliveries
    assert months_of(dt.date(2024, 11, 1), 3) == [dt.date(2024, 11, 1)]
    assert months_of(dt.date(2024, 10, 20), 45) == [dt.date(2024, 10, 20), dt.date(2024, 11, 1),
                                                   dt.date(2024, 12, 1)]
    report = _run(tmp_path, persons=400, start=dt.date(2024, 10, 20), days=45)
    folder = tmp_path / "inbox" / "moa" / "farmer_registry"
    names = ["MOA_FHI_11310.xml", "MOA_FHI_11311.xml", "MOA_FHI_11312.xml"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        names + [n + ".sha256" for n in names])
    assert [f.path.name for f in report.files] == names
    assert [f.file_date for f in report.files] == [dt.date(2024, 10, 1), dt.date(2024, 11, 1),
                                                  dt.date(2024, 12, 1)]
    pattern = re.compile(CONTRACT.delivery.file_pattern)
    for f, produced in zip(report.files, ["1131020", "1131101", "1131201"], strict=True):
        assert pattern.fullmatch(f.path.name)
        data = f.path.read_bytes()
        assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
        assert f.sha256 == hashlib.sha256(data).hexdigest()
        companion = f.path.with_name(f.path.name + ".sha256").read_text(encoding="ascii")
        assert companion == f"{f.sha256}  {f.path.name}\n"
        root = ET.fromstring(data)  # well-formed, UTF-8
        assert root.attrib["產製日期"] == produced
        assert len(root) == f.rows > 0


def test_farmers_are_the_roles_farmers_with_their_dates(tmp_path):
    persons, seed = 1500, 11
    report = _run(tmp_path, persons, seed, rates=IssueRates.none())
    as_of = START - dt.timedelta(days=1)
    population = build_population(persons, seed, as_of, IssueRates.none().population_params())
    farmers = {p.national_id: (p, roles(p, seed, as_of)) for p in population
               if roles(p, seed, as_of).farmer}
    dual = [nid for nid, (_, r) in farmers.items() if r.labor]
    assert dual  # farmers who are also labor-insured: the anomaly gold.dual_enrollment finds
    first, second = (_records(f.path) for f in report.files)
    order = [WIRE[f.name] for f in CONTRACT.fields]
    seen = {}
    for rec in first:
        assert [c.tag for c in rec] == order  # every element, in contract order
        p, r = farmers[rec.findtext(WIRE["national_id"])]
        assert rec.findtext(WIRE["name"]) == p.name
        assert rec.findtext(WIRE["birth_date"]) == roc_date(p.birth_date)
        assert rec.findtext(WIRE["association_code"]) == r.association_code
        since = parse_roc_date(rec.findtext(WIRE["eligible_from"]) or "")
        assert since is not None
        until = rec.find(UNTIL)
        if p.death_date is None:
            assert since == r.enrolled_on
            assert until is not None and until.attrib == {XSI_NIL: "true"} and not until.text
        else:  # eligibility ended on the day of death
            assert until is not None and until.text == roc_date(p.death_date)
            assert since <= p.death_date
        assert re.fullmatch(r"\d\.\d\d", rec.findtext(WIRE["land_hectares"]) or "")
        seen[p.national_id] = rec.findtext(WIRE["elderly_allowance"])
    assert set(seen) == set(farmers)
    deceased = {nid for nid, (p, _) in farmers.items() if p.death_date}
    assert deceased
    # The second month lists the eligible farmers only (the losses were in the first file).
    assert {rec.findtext(WIRE["national_id"]) for rec in second} == set(farmers) - deceased
    # The elderly allowance: mostly Y from 65, never below.
    ages = {nid: (as_of - p.birth_date).days // 365.25 for nid, (p, _) in farmers.items()
            if p.death_date is None}
    young = [seen[n] for n, age in ages.items() if age < 64]
    old = [seen[n] for n, age in ages.items() if age >= 66]
    assert set(young) == {"N"}
    assert old.count("Y") > 0.7 * len(old)


def test_same_arguments_give_identical_files_and_months_do_not_depend_on_later_ones(tmp_path):
    a = _run(tmp_path / "a", persons=600, days=35)
    b = _run(tmp_path / "b", persons=600, days=35)
    c = _run(tmp_path / "c", persons=600, days=5)
    assert [f.path.read_bytes() for f in a.files] == [f.path.read_bytes() for f in b.files]
    assert a.issues == b.issues and a.events == b.events
    assert c.files[0].path.read_bytes() == a.files[0].path.read_bytes()
    d = _run(tmp_path / "d", persons=600, days=35, seed=12)
    assert d.files[0].sha256 != a.files[0].sha256


def _found(text: str, records: list[ET.Element]) -> Counter[str]:
    """The issues visible in one file: from the elements and, for the form of an empty
    element, from the text."""
    out: Counter[str] = Counter()
    out["empty_element"] = (text.count(f"<{UNTIL}></{UNTIL}>") + text.count(f"<{UNTIL}/>"))
    for rec in records:
        values = {c.tag: c.text or "" for c in rec}
        until = rec.find(UNTIL)
        if until is None:
            out["missing_element"] += 1
        nid = values[WIRE["national_id"]].strip()
        if nid != unicodedata.normalize("NFKC", nid):
            out["fullwidth_id"] += 1
        if not is_valid_person_id(_n(nid)):
            out["invalid_check_digit"] += 1
        if "．" in values[WIRE["land_hectares"]]:
            out["fullwidth_decimal"] += 1
        if any(v != v.strip() for v in values.values()):
            out["padded_spaces"] += 1
        dates = [_n(values[WIRE[k]]) for k in ("birth_date", "eligible_from", "eligible_until")
                 if values.get(WIRE[k])]
        if any(len(d) == 6 for d in dates):
            out["six_digit_date"] += 1
        if any(parse_roc_date(d) is None for d in dates):
            out["impossible_date"] += 1
    return out


def test_issues_in_the_files_are_the_reported_ones(tmp_path):
    rates = IssueRates(fullwidth_id=0.1, padded_spaces=0.1, invalid_check_digit=0.05,
                       six_digit_date=0.2, impossible_date=0.05, fullwidth_decimal=0.2,
                       empty_element=0.3, missing_element=0.3)
    report = _run(tmp_path, persons=4000, rates=rates)
    found: Counter[str] = Counter()
    for f in report.files:
        text = f.path.read_text(encoding="utf-8")
        found += _found(text, _records(f.path))
        pairs = text.count(f"<{UNTIL}></{UNTIL}>")
        singles = text.count(f"<{UNTIL}/>")
        assert pairs and singles  # both forms of the empty element
    assert report.events["absent_pair"] + report.events["absent_self_closing"] == found[
        "empty_element"]
    for kind in FEED_ISSUES:
        assert found[kind] == report.issues[kind] > 0, kind
        n, hits = report.eligible[kind], report.issues[kind]
        rate = getattr(rates, kind)
        assert abs(hits / n - rate) < 4 * (rate * (1 - rate) / n) ** 0.5 + 0.01, kind
    assert set(report.issues) <= set(FEED_ISSUES)
    assert report.rows == sum(report.events[k] for k in ("eligible", "lost"))


def test_no_issues_when_rates_are_zero(tmp_path):
    report = _run(tmp_path, persons=800, rates=IssueRates.none())
    assert sum(report.issues.values()) == 0
    assert report.events["absent_nil"] == report.events["eligible"] > 0
    for f in report.files:
        found = _found(f.path.read_text(encoding="utf-8"), _records(f.path))
        assert sum(found.values()) == 0


def test_text_is_escaped_and_the_population_is_streamed(tmp_path):
    seed, as_of = 3, START - dt.timedelta(days=1)
    farmer = next(p for p in Population(400, seed, as_of) if roles(p, seed, as_of).farmer)
    odd = dataclasses.replace(farmer, name='A&B <C> "D\'')
    report = write_farmer_deliveries(tmp_path, iter([odd]), seed, START, 1, IssueRates.none())
    (f,) = report.files
    (rec,) = _records(f.path)
    assert rec.findtext(WIRE["name"]) == 'A&B <C> "D\''
    assert "A&amp;B &lt;C&gt;" in f.path.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="exceed 1"):
        write_farmer_deliveries(tmp_path, [], seed, START, 1,
                                IssueRates(empty_element=0.6, missing_element=0.6))
    with pytest.raises(ValueError, match="at least 1"):
        write_farmer_deliveries(tmp_path, [], seed, START, 0, IssueRates.none())
