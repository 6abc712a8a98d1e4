"""The independent evaluation set's markup (masking.evalset.markup): the parser's offsets and
refusals, the split rule (earlier sources train, the last source holdout), and the shipped sources
and JSONL (coverage per entity and split, no duplicates, check digits). Plain Python, no
recognizers: the set must stay independent of them."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from masking.evalset import markup
from masking.evalset.markup import ENTITIES, MarkupError, parse, parse_line

MIN_PER_ENTITY = 20
MIN_PER_ENTITY_HOLDOUT = 10
MIN_HOLDOUT = 500
TW_LETTERS = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True))


@pytest.fixture(scope="module")
def shipped() -> list[markup.Record]:
    return markup.parse_sources(list(markup.DEFAULT_SRCS))


@pytest.fixture(scope="module")
def holdout(shipped: list[markup.Record]) -> list[markup.Record]:
    return [r for r in shipped if r.split == "holdout"]


def _src(*lines: str) -> str:
    return "\n".join(["# kind: call_note", *lines]) + "\n"


def _refusal(source: str) -> MarkupError:
    with pytest.raises(MarkupError) as caught:
        parse(source)
    return caught.value


def test_parse_line_offsets_and_plain_text() -> None:
    text, spans = parse_line("受款人{{PERSON|潘美玲}}（{{TW_PHONE|0936-118-204}}）請改寄。", 1)
    assert text == "受款人潘美玲（0936-118-204）請改寄。"
    assert [(s.start, s.end, s.entity) for s in spans] == [
        (3, 6, "PERSON"),
        (7, 19, "TW_PHONE"),
    ]


def test_known_prefix_is_stripped_and_kind_follows_nearest_heading() -> None:
    records = parse(
        "# kind: call_note\n@known=潘美玲 {{PERSON|潘美玲}}來電。\n# 小節\n"
        "# kind: returned_mail\n退件：查無此人。\n"
    )
    assert [(r.kind, r.text, r.known_names) for r in records] == [
        ("call_note", "潘美玲來電。", ["潘美玲"]),
        ("returned_mail", "退件：查無此人。", []),
    ]


@pytest.mark.parametrize(
    ("lines", "line_no", "reason"),
    [
        (["ok", "{{PERSON|王小明}"], 3, "malformed"),
        (["{{PERSON|王{{PERSON|小明}}}}"], 2, "malformed"),
        (["{{NAME|王小明}}來電"], 2, "unknown entity"),
        (["{{PERSON|}}來電"], 2, "empty"),
        (["{{PERSON王小明}}來電"], 2, "malformed"),
        (["{{PERSON|王小明}}來電", "", "{{PERSON|王小明}}來電"], 4, "duplicate"),
        (["@known=李大同 {{PERSON|王小明}}來電"], 2, "known name"),
        (["@known李大同 來電"], 2, "@known"),
        (["# kind: Call Note", "來電"], 2, "kind"),
    ],
)
def test_refusals_name_the_line(lines: list[str], line_no: int, reason: str) -> None:
    err = _refusal(_src(*lines))
    assert err.line_no == line_no
    assert str(err).startswith(f"line {line_no}: ")
    assert reason in str(err)


def test_remark_before_any_kind_is_refused() -> None:
    assert _refusal("# 說明\n來電詢問。\n").line_no == 2


def test_cli_refuses_with_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "bad.txt"
    src.write_text(_src("好", "{{PHONE|0912345678}}"), "utf-8")
    assert markup.main([str(src), str(tmp_path / "out.jsonl")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "line 3" in err[0]
    assert not (tmp_path / "out.jsonl").exists()


def test_cli_writes_jsonl_in_contract_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = tmp_path / "s.txt", tmp_path / "o.jsonl"
    src.write_text(_src("@known=潘美玲 {{PERSON|潘美玲}}來電{{TW_PHONE|0936118204}}"), "utf-8")
    assert markup.main([str(src), str(out)]) == 0
    (line,) = out.read_text("utf-8").splitlines()
    assert line == (
        '{"id": 0, "kind": "call_note", "split": "train", "text": "潘美玲來電0936118204", '
        '"spans": [{"start": 0, "end": 3, "entity": "PERSON"}, '
        '{"start": 5, "end": 15, "entity": "TW_PHONE"}], "known_names": ["潘美玲"]}'
    )
    assert "entity PERSON 1" in capsys.readouterr().out


def _two_sources(tmp_path: Path, first: list[str], second: list[str]) -> list[Path]:
    paths = [tmp_path / "a.txt", tmp_path / "b.txt"]
    for path, lines in zip(paths, (first, second), strict=True):
        path.write_text(_src(*lines), "utf-8")
    return paths


def test_earlier_sources_are_train_and_the_last_one_holdout(tmp_path: Path) -> None:
    paths = _two_sources(tmp_path, ["甲件來電。", "乙件來電。"], ["丙件來電。"])
    records = markup.parse_sources(paths)
    assert [(r.text, r.split, r.source) for r in records] == [
        ("甲件來電。", "train", "a.txt"),
        ("乙件來電。", "train", "a.txt"),
        ("丙件來電。", "holdout", "b.txt"),
    ]
    third = tmp_path / "c.txt"
    third.write_text(_src("戊件來電。"), "utf-8")
    records = markup.parse_sources([*paths, third])
    assert [r.split for r in records] == ["train", "train", "train", "holdout"]
    assert [r.split for r in markup.parse_sources([paths[0]])] == ["train", "train"]
    assert [r.split for r in parse(_src("丁件來電。"))] == ["train"]


def test_duplicate_across_sources_is_refused_with_its_source(tmp_path: Path) -> None:
    paths = _two_sources(tmp_path, ["甲件來電。"], ["乙件來電。", "甲件來電。"])
    with pytest.raises(MarkupError) as caught:
        markup.parse_sources(paths)
    assert caught.value.line_no == 3 and caught.value.source == "b.txt"
    assert "duplicate" in str(caught.value) and "a.txt" in str(caught.value)


def test_cli_builds_both_sources_with_ids_across_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _two_sources(tmp_path, ["甲{{PERSON|潘美玲}}來電。"], ["{{TW_PHONE|0936118204}}"])
    out = tmp_path / "o.jsonl"
    assert markup.main([*map(str, paths), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [(row["id"], row["split"]) for row in rows] == [(0, "train"), (1, "holdout")]
    printed = capsys.readouterr().out
    assert "entity PERSON train 1" in printed and "entity TW_PHONE holdout 1" in printed


def test_cli_error_names_the_failing_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _two_sources(tmp_path, ["甲件來電。"], ["{{NAME|王小明}}"])
    out = tmp_path / "o.jsonl"
    assert markup.main([*map(str, paths), "--out", str(out)]) == 1
    (err,) = capsys.readouterr().err.strip().splitlines()
    assert err.startswith(str(paths[1])) and "line 2" in err
    assert not out.exists()


@pytest.mark.parametrize("argv", [["--out"], ["a.txt", "--bogus"], ["--out", "--x"]])
def test_cli_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert markup.main(argv) == 2
    assert "usage" in capsys.readouterr().err


def test_default_arguments_build_every_source() -> None:
    assert markup.parse_args([]) == (list(markup.DEFAULT_SRCS), markup.DEFAULT_OUT)
    assert [p.name for p in markup.DEFAULT_SRCS] == [
        "independent.txt", "independent-2.txt", "independent-3.txt", "independent-4.txt"]


def test_shipped_offsets_round_trip(shipped: list[markup.Record]) -> None:
    sources = {p.name: p.read_text("utf-8").splitlines() for p in markup.DEFAULT_SRCS}
    for record in shipped:
        line = sources[record.source][record.line_no - 1]
        values = re.findall(r"\{\{[A-Z_]+\|([^{}|]+)\}\}", line)
        assert [record.text[s.start : s.end] for s in record.spans] == values
        assert all(0 <= s.start < s.end <= len(record.text) for s in record.spans)


def test_shipped_jsonl_is_generated_from_the_source(shipped: list[markup.Record]) -> None:
    lines = markup.DEFAULT_OUT.read_text("utf-8").splitlines()
    assert lines == [markup.to_json(i, r) for i, r in enumerate(shipped)]
    for row in map(json.loads, lines):
        assert list(row) == ["id", "kind", "split", "text", "spans", "known_names"]
        for span in row["spans"]:
            assert span["entity"] in ENTITIES


def test_holdout_is_exactly_the_last_source(
    shipped: list[markup.Record], holdout: list[markup.Record]
) -> None:
    last = parse(markup.DEFAULT_HOLDOUT_SRC.read_text("utf-8"))
    assert [(r.text, r.line_no) for r in holdout] == [(r.text, r.line_no) for r in last]
    assert all(r.source == markup.DEFAULT_HOLDOUT_SRC.name for r in holdout)
    train = [r for r in shipped if r.split == "train"]
    earlier = [r for p in markup.DEFAULT_SRCS[:-1] for r in parse(p.read_text("utf-8"))]
    assert [r.text for r in train] == [r.text for r in earlier]
    assert shipped == train + holdout
    assert len(holdout) >= 0.2 * len(shipped)


def test_holdout_size_and_coverage(holdout: list[markup.Record]) -> None:
    assert len(holdout) >= MIN_HOLDOUT
    counts = Counter(s.entity for r in holdout for s in r.spans)
    assert {e: counts[e] for e in ENTITIES if counts[e] < MIN_PER_ENTITY_HOLDOUT} == {}
    harmless = sum(not r.spans for r in holdout) / len(holdout)
    assert 0.12 <= harmless <= 0.33  # independent-3.txt: 139 of 981 harmless remarks
    known = sum(bool(r.known_names) for r in holdout) / len(holdout)
    assert 0.18 <= known <= 0.32


def test_shipped_size_coverage_and_no_duplicates(shipped: list[markup.Record]) -> None:
    assert len(shipped) >= 520
    assert len({r.text for r in shipped}) == len(shipped)
    counts = Counter(s.entity for r in shipped for s in r.spans)
    assert {e: counts[e] for e in ENTITIES if counts[e] < MIN_PER_ENTITY} == {}
    harmless = sum(not r.spans for r in shipped) / len(shipped)
    assert 0.12 <= harmless <= 0.33
    known = sum(bool(r.known_names) for r in shipped) / len(shipped)
    assert 0.18 <= known <= 0.32


def _id_valid(value: str) -> bool:
    plain = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value)).upper()
    if re.fullmatch(r"[A-Z][A-Z]\d{8}", plain):
        digits = str(TW_LETTERS[plain[1]] % 10) + plain[2:]
    elif re.fullmatch(r"[A-Z][1289]\d{8}", plain):
        digits = plain[1:]
    else:
        return False
    head = TW_LETTERS[plain[0]]
    weights = [8, 7, 6, 5, 4, 3, 2, 1, 1]
    total = (
        head // 10 + head % 10 * 9 + sum(int(d) * w for d, w in zip(digits, weights, strict=True))
    )
    return total % 10 == 0


def _ban_valid(value: str) -> bool:
    value = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value))
    if not re.fullmatch(r"\d{8}", value):
        return False
    products = [int(d) * w for d, w in zip(value, [1, 2, 1, 2, 1, 2, 4, 1], strict=True)]
    total = sum(p // 10 + p % 10 for p in products)
    return total % 5 == 0 or (value[6] == "7" and (total + 1) % 5 == 0)


def test_id_checksum_helper_knows_the_public_example() -> None:
    assert _id_valid("A123456789") and not _id_valid("A123456788")
    assert _ban_valid("04595257") and not _ban_valid("04595258")


def test_shipped_ids_and_business_numbers_carry_valid_check_digits(
    shipped: list[markup.Record],
) -> None:
    """The first two sources hold valid numbers only; the later ones also mistyped ones, as
    clerks type them (their writers made about one in ten wrong), still most of them valid."""
    checks = {"TW_NATIONAL_ID": _id_valid, "TW_BUSINESS_ID": _ban_valid}
    spans = [(r.source, r.line_no, r.text[s.start : s.end], checks[s.entity])
             for r in shipped for s in r.spans if s.entity in checks]
    bad = [(src, n, v) for src, n, v, ok in spans if not ok(v)]
    first_two = {p.name for p in markup.DEFAULT_SRCS[:2]}
    assert [b for b in bad if b[0] in first_two] == []
    for later in markup.DEFAULT_SRCS[2:]:
        values = [v for src, _, v, _ in spans if src == later.name]
        assert values and len([b for b in bad if b[0] == later.name]) <= 0.3 * len(values)


def test_surname_with_honorific_only_is_not_labelled(shipped: list[markup.Record]) -> None:
    for record in shipped:
        for span in record.spans:
            if span.entity == "PERSON":
                assert not record.text[span.start : span.end].endswith(("先生", "小姐", "女士"))
