"""The masking plan of a published dataset (:mod:`masking.dataset_plan`): derived from the
contract, applied on the publish path, every published column masked exactly as its contract
says.

For each dataset contract the transform runs on silver inputs (the hand-built tables of
``tests/jobs``), the plan on its candidate, and every published column is compared with its
policy computed independently in plain Python: ``person_key`` by ``hmac``/``hashlib`` over the
NFKC, upper-case, trimmed identifier; the 縣市 prefix of the address (台 read as 臺); the age at
the snapshot date by calendar arithmetic; the salary band by its edges; the first day of a month.
Free text: no personal value of the source remark is left, the harmless text is kept. Negative
tests: candidates that hand over a raw value where a published form is expected are refused with
the column and a count, never a value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs import residents_coverage
from jobs.deceased_payments import deceased_with_active_payments
from jobs.dual_enrollment import dual_enrollment
from jobs.insured_by_county import insured_by_county_age_sex
from jobs.person_coverage import person_coverage
from kernel.contracts import DatasetContract
from kernel.twid import AGE_BANDS, COUNTIES
from masking.dataset_plan import (
    PlanRefusal,
    apply_dataset_plan,
    band_edges,
    dataset_plan,
)
from tests.jobs.test_insured_by_county import _inputs as county_inputs
from tests.jobs.test_person_coverage import KEY, SECRET, contract, coverage_inputs, frame

D = dt.date
SNAPSHOT = D(2024, 11, 15)
UNKNOWN = "不詳"

# ------------------------------------------------------------------ independent policies
INPUTS: dict[str, dict[str, str]] = {
    "gold.person_coverage": {"person_key": "national_id", "birth_year": "birth_date",
                             "age_band": "birth_date", "county": "address",
                             "insured_salary_band": "insured_salary"},
    "gold.deceased_with_active_payments": {"person_key": "national_id",
                                           "death_month": "death_date",
                                           "remark_masked": "remark"},
    "gold.dual_enrollment": {"person_key": "national_id"},
    "opendata.insured_by_county_age_sex": {},
}  # fmt: skip
"""The input of each masked column, as the contracts' sources name it; a masked column not
listed is handed over in its published form (checked, not changed)."""
SALARY_BANDS = ((30000, "<30000"), (40000, "30000-39999"), (45800, "40000-45799"))


def key_of(national_id: str | None) -> str | None:
    """HMAC-SHA256 (hex) of the NFKC, upper-case, trimmed identifier."""
    if national_id is None:
        return None
    norm = unicodedata.normalize("NFKC", national_id).strip().upper()
    return hmac.new(SECRET.encode(), norm.encode("utf-8"), hashlib.sha256).hexdigest()


def county_of(address: str | None) -> str | None:
    head = (address or "")[:3].replace("台", "臺")
    return head if head in COUNTIES else None


def age_band_at(birth: dt.date | None, at: dt.date) -> str | None:
    if birth is None:
        return None
    age = at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))
    return "100+" if age >= 100 else f"{age // 5 * 5}-{age // 5 * 5 + 4}"


def salary_band_of(salary: int | None) -> str | None:
    if salary is None:
        return None
    return next((label for edge, label in SALARY_BANDS if salary < edge), "45800+")


def expected_value(dc: DatasetContract, column: str, raw: Mapping[str, Any],
                   snapshot: dt.date) -> Any:  # fmt: skip
    """The published value of ``column`` from the candidate row ``raw``, by its policy."""
    policy = next(c.masking for c in dc.columns if c.name == column)
    source = INPUTS[dc.name].get(column)
    if source is None:
        return raw[column]  # keep, or handed over in published form
    value = raw[source]
    if policy == "pseudonymize":
        return key_of(value)
    if policy == "generalize_year":
        return None if value is None else value.year
    if policy == "generalize_month":
        return None if value is None else value.replace(day=1)
    if policy == "generalize_county":
        return county_of(value)
    if policy == "generalize_band":
        return salary_band_of(value) if source == "insured_salary" else age_band_at(value,
                                                                                    snapshot)
    assert policy == "scan_free_text"
    return FREE_TEXT


FREE_TEXT = object()
"""Stands for a scrubbed text in the row comparison (checked by :func:`check_free_text`)."""

# ------------------------------------------------------------------ the deceased's remarks
DEAD_A, DEAD_B, DEAD_C, ALIVE = "C100000003", "C200000005", "D100000004", "A123456789"
NAMES = {DEAD_A: "王小明", DEAD_B: "仉\ue015華", DEAD_C: "慕容雪", ALIVE: "陳美玲"}
"""A common name; a rare surname with an EUDC character; a compound surname no cue list knows."""
VALUES = {"phone": "0912-345-678", "post": "0001234-5678901",
          "post_office_account": "0001234帳號5678901",  # office and account: one finding
          "bank_account": "123456789012",
          "address": "台中市西屯區臺灣大道三段99號5樓", "email": "mei.chen@example.com",
          "phone_fw": "０９３２－１１１－２２２"}  # fmt: skip
REMARKS: dict[int, tuple[str, str | None]] = {
    1: (DEAD_A, "受款人{name}({nid})來電{phone}，改匯郵局帳號{post}"),
    2: (DEAD_A, "{name}君來電{phone_fw}詢問入帳日期"),
    3: (DEAD_B, "退匯重撥：{name} 身分證{nid} 郵局局號{post_office_account}"),
    4: (DEAD_B, "家屬來電：{name}已遷居{address}，通知書改寄新址"),
    5: (DEAD_C, "{name}（{nid_fw}）通訊地址{address}，電話{phone}"),
    6: (DEAD_C, "受款人{name}申請改匯004銀行帳號{bank_account}"),
    7: (DEAD_C, "{name}來信{email}詢問給付進度"),
    8: (DEAD_C, "按月撥付"),
    9: (DEAD_C, None),
    10: (DEAD_A, "{name}本月份已領取"),  # the month of death: due, not listed
    11: (ALIVE, "受款人{name}來電{phone}"),  # alive: never listed
}
"""Payment id → (who, remark template); ``{…}`` parts are the person's data."""
DEATHS = {DEAD_A: D(2024, 8, 10), DEAD_B: D(2024, 7, 1), DEAD_C: D(2024, 6, 30)}


def personal_values(who: str, template: str) -> list[str]:
    """The personal data a remark template fills in for ``who``."""
    values = {**VALUES, "name": NAMES[who], "nid": who,
              "nid_fw": who.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})}
    return [values[k] for k in re.findall(r"\{(\w+)\}", template)]


def remark_text(who: str, template: str | None) -> str | None:
    if template is None:
        return None
    values = iter(personal_values(who, template))
    return re.sub(r"\{\w+\}", lambda _: next(values), template)


def deceased_inputs(spark: Any) -> dict[str, DataFrame]:
    """Three deceased persons and one alive, their payments with clerks' remarks."""
    residents = frame(spark, "moi.residents", [
        {"national_id": nid, "name": NAMES[nid], "sex": "1", "birth_date": D(1950, 1, 1),
         "address": "臺北市中正區重慶南路一段122號", "change_type": "04" if nid in DEATHS else "01",
         "death_date": DEATHS.get(nid)} for nid in NAMES])  # fmt: skip
    payments = []
    for pid, (who, template) in REMARKS.items():
        month = DEATHS[DEAD_A].replace(day=1) if pid == 10 else D(2024, 9 + pid % 3, 1)
        payments.append({"payment_id": pid, "national_id": who, "benefit_type": "OLD_AGE",
                         "payment_month": month, "amount": 1000 * pid,
                         "remark": remark_text(who, template)})  # fmt: skip
    return {"moi.residents": residents, "bli.payments": frame(spark, "bli.payments", payments)}


def check_free_text(raw: Mapping[str, Any], masked: str | None) -> None:
    """``masked`` holds no personal value of the remark and keeps every other fragment."""
    who, template = REMARKS[raw["payment_id"]]
    if template is None:
        assert masked is None
        return
    assert masked is not None
    text = unicodedata.normalize("NFKC", masked)
    digits = re.sub(r"\D", "", text)
    for value in personal_values(who, template):
        plain = unicodedata.normalize("NFKC", value)
        assert plain not in text, (raw["payment_id"], masked)
        if re.sub(r"\D", "", plain):
            assert re.sub(r"\D", "", plain) not in digits, (raw["payment_id"], masked)
    for fragment in re.split(r"\{\w+\}", template):
        assert fragment in masked, (raw["payment_id"], fragment, masked)
    if "{" not in template:
        assert masked == template
    else:
        assert "<" in masked and (("{name}" not in template) or "<PERSON>" in masked)


# ------------------------------------------------------------------ the other inputs
def residents_inputs(spark: Any) -> dict[str, DataFrame]:
    """Residents with unnormalised identifiers (the plan normalises them, not the transform)."""
    return {"moi.residents": frame(spark, "moi.residents", [
        {"national_id": " ａ１２３４５６７８９ ", "sex": "1", "birth_date": D(1980, 3, 15),
         "address": "台北市中正區重慶南路一段122號"},
        {"national_id": "b234567890", "sex": "2", "birth_date": D(1930, 1, 2),
         "address": "花蓮縣花蓮市中山路1號", "death_date": D(2024, 11, 15)},
        {"national_id": "C100000003", "sex": "2", "birth_date": D(2020, 11, 16),
         "address": "月球基地"},
    ])}  # fmt: skip


def dual_inputs(spark: Any) -> dict[str, DataFrame]:
    farmers = frame(spark, "moa.farmers", [
        {"national_id": f"F10000000{i}", "birth_date": D(1970, 1, 1),
         "association_code": "6010101", "eligible_from": D(2010, 1, 1)} for i in range(3)])
    events = frame(spark, "bli.labor_insurance_enrollment", [
        {"insurance_unit_no": f"1000000{i}", "employer_ubn": f"{i}" * 8,
         "national_id": f" ｆ１０００００００{i}", "action": "1", "action_date": D(2020, 1, 1),
         "insured_salary": 30300, "category": "1"} for i in range(2)])  # fmt: skip
    return {"moa.farmers": farmers, "bli.labor_insurance_enrollment": events}


def _with(dc: DatasetContract, **options: Any) -> DatasetContract:
    return dataclasses.replace(dc, options={**dc.options, **options})


CASES: dict[str, tuple[Callable[[], DatasetContract], Callable[..., Any], Callable[..., Any]]] = {
    "person_coverage": (lambda: contract("gold/person_coverage.yaml"), coverage_inputs,
                        person_coverage),
    "residents_coverage": (residents_coverage.contract, residents_inputs,
                           residents_coverage.residents_coverage),
    "deceased_with_active_payments": (
        lambda: contract("gold/deceased_with_active_payments.yaml"), deceased_inputs,
        deceased_with_active_payments),
    "dual_enrollment": (lambda: _with(contract("gold/dual_enrollment.yaml"), months=3),
                        dual_inputs, dual_enrollment),
    "insured_by_county_age_sex": (
        lambda: _with(contract("opendata/insured_by_county_age_sex.yaml"), months=2),
        county_inputs, insured_by_county_age_sex),
}  # fmt: skip
"""Every published dataset: its contract, silver inputs and transform."""
SPARK_TYPES = {"long": "bigint"}


# ------------------------------------------------------------------ derivation
def test_the_plan_derives_each_input_from_the_sources():
    def inputs(path: str) -> dict[str, tuple[str, str | None]]:
        return {p.name: (p.policy, p.input) for p in dataset_plan(contract(path))}

    coverage = inputs("gold/person_coverage.yaml")
    assert {c: coverage[c] for c in ("person_key", "birth_year", "age_band", "county",
                                     "insured_salary_band", "sex")} == {
        "person_key": ("pseudonymize", "national_id"),
        "birth_year": ("generalize_year", "birth_date"),
        "age_band": ("generalize_band", "birth_date"),
        "county": ("generalize_county", "address"),
        "insured_salary_band": ("generalize_band", "insured_salary"),
        "sex": ("keep", "sex"),
    }  # fmt: skip
    plans = {p.name: p for p in dataset_plan(contract("gold/person_coverage.yaml"))}
    assert plans["insured_salary_band"].edges == (30000, 40000, 45800)
    assert plans["insured_salary_band"].bands() == ("<30000", "30000-39999", "40000-45799",
                                                    "45800+")  # fmt: skip
    assert plans["age_band"].edges is None and plans["age_band"].bands() == AGE_BANDS
    deceased = inputs("gold/deceased_with_active_payments.yaml")
    assert deceased["death_month"] == ("generalize_month", "death_date")
    assert deceased["remark_masked"] == ("scan_free_text", "remark")
    assert inputs("gold/dual_enrollment.yaml")["month"] == ("generalize_month", None)
    counts = inputs("opendata/insured_by_county_age_sex.yaml")
    assert counts["county"] == ("generalize_county", "address")
    assert counts["persons"] == ("keep", "persons")


def test_band_edges_and_contract_errors():
    dc = contract("gold/person_coverage.yaml")
    assert band_edges(dc, "insured_salary_band") == (30000, 40000, 45800)
    assert band_edges(dc, "age_band") is None and band_edges(dc, "xsalary_band") is None
    longer = _with(dc, insured_salary_band_edges=[1000, 2000])
    assert band_edges(longer, "insured_salary_band") == (1000, 2000)
    with pytest.raises(ValueError, match="increasing"):
        band_edges(_with(dc, salary_band_edges=[40000, 30000]), "insured_salary_band")
    dropped = dataclasses.replace(dc, columns=(dataclasses.replace(dc.columns[1],
                                                                   masking="drop"),))
    with pytest.raises(PlanRefusal, match="sex: a published column cannot be dropped"):
        dataset_plan(dropped)
    mixed = dataclasses.replace(dc.columns[0], masking="scan_free_text")
    with pytest.raises(PlanRefusal, match="share no field name"):
        dataset_plan(dataclasses.replace(dc, columns=(dataclasses.replace(
            mixed, source=("a.b.x", "a.b.y")),)))


# ------------------------------------------------------------------ every column as contracted
@pytest.mark.parametrize("case", list(CASES))
def test_every_published_column_is_masked_as_its_contract_says(spark, case):
    load, build, transform = CASES[case]
    dc = load()
    candidate = transform(build(spark), SNAPSHOT, dc).cache()
    got = apply_dataset_plan(candidate, dc, KEY, SNAPSHOT).cache()
    names = [c.name for c in dc.columns]
    assert [(f.name, f.dataType.simpleString()) for f in got.schema] == [
        (c.name, SPARK_TYPES.get(c.type, c.type)) for c in dc.columns]
    raw_rows = [r.asDict() for r in candidate.collect()]
    rows = [r.asDict() for r in got.collect()]
    assert rows and len(rows) == len(raw_rows)
    free = [c.name for c in dc.columns if c.masking == "scan_free_text"]
    if free:  # aligned by the dataset's key (kept columns)
        raw_by_key = {tuple(r[k] for k in dc.key): r for r in raw_rows}
        for r in rows:
            for column in free:
                check_free_text(raw_by_key[tuple(r[k] for k in dc.key)], r[column])
    checked = [c for c in dc.columns
               if c.masking != "keep" and c.name not in INPUTS[dc.name]]  # fmt: skip
    for r in rows:
        for c in checked:
            assert r[c.name] is None or conforms_in_python(c.masking, r[c.name]), (c.name, r)

    def key(values: tuple[Any, ...]) -> str:
        return repr(values)

    want = sorted((tuple(expected_value(dc, n, r, SNAPSHOT) for n in names)
                   for r in raw_rows), key=key)  # fmt: skip
    have = sorted((tuple(FREE_TEXT if n in free else r[n] for n in names) for r in rows),
                  key=key)  # fmt: skip
    assert have == want
    candidate.unpersist()
    got.unpersist()


def conforms_in_python(policy: str, value: Any) -> bool:
    """The published form of a generalisation, in plain Python."""
    if policy == "generalize_month":
        return isinstance(value, dt.date) and value.day == 1
    if policy == "generalize_county":
        return value in (*COUNTIES, UNKNOWN)
    if policy == "generalize_band":
        return value in (*AGE_BANDS, UNKNOWN)
    return bool(re.fullmatch(r"[0-9a-f]{64}", str(value)))


def test_known_names_catch_a_rare_name_without_a_cue():
    """Without the registry's name, the scrub finds no rare or compound surname with no cue."""
    from masking.freetext import scrub_text

    text = remark_text(DEAD_B, REMARKS[3][1])
    assert text is not None and NAMES[DEAD_B] in (scrub_text(text) or "")
    assert NAMES[DEAD_B] not in (scrub_text(text, [NAMES[DEAD_B]]) or "")


# ------------------------------------------------------------------ refusals
def refusal(candidate: DataFrame, dc: DatasetContract) -> PlanRefusal:
    with pytest.raises(PlanRefusal) as caught:
        apply_dataset_plan(candidate, dc, KEY, SNAPSHOT)
    return caught.value


def test_a_raw_address_handed_over_as_county_is_refused(spark):
    """A transform that puts the address where the plan expects a 縣市 (and hands over no
    address to generalise) is refused: column and count, never the value."""
    dc = contract("gold/person_coverage.yaml")
    inputs = coverage_inputs(spark)
    candidate = person_coverage(inputs, SNAPSHOT, dc)
    leaky = candidate.withColumn("county", F.col("address")).drop("address")
    exc = refusal(leaky, dc)
    assert exc.problems == (("county", "6 row(s) not in the published form of "
                                       "generalize_county"),)  # fmt: skip
    addresses = [r["address"] for r in inputs["moi.residents"].collect()]
    assert not [a for a in addresses if a in str(exc)]
    # The same with the address handed over too: the transform restates the masking.
    both = candidate.withColumn("county", F.lit("臺北市"))
    assert refusal(both, dc).problems[0][0] == "county"
    assert "restate" in refusal(both, dc).problems[0][1]


def test_open_data_dimensions_must_be_in_published_form(spark):
    dc = _with(contract("opendata/insured_by_county_age_sex.yaml"), months=2)
    candidate = insured_by_county_age_sex(county_inputs(spark), SNAPSHOT, dc).cache()
    raw = F.when(F.col("county") == "臺中市", F.lit("台中市西屯區1號")).otherwise(F.col("county"))
    exc = refusal(candidate.withColumn("county", raw), dc)
    assert exc.problems == (("county", f"{2 * 22 * 3} row(s) not in the published form of "
                                       "generalize_county"),)  # fmt: skip
    assert "西屯" not in str(exc)
    ages = F.when(F.col("age_band") == "30-34", F.lit("34")).otherwise(F.col("age_band"))
    months = F.date_add(F.col("month"), 14)
    exc = refusal(candidate.withColumn("age_band", ages).withColumn("month", months), dc)
    assert dict(exc.problems) == {
        "month": f"{22 * 23 * 3 * 2} row(s) not in the published form "
                 "of generalize_month",
        "age_band": f"{2 * 23 * 3} row(s) not in the published form of generalize_band"}
    as_text = candidate.withColumn("month", F.date_format("month", "yyyy-MM"))
    assert refusal(as_text, dc).problems == (("month", "handed over as string, its published "
                                                       "type is date"),)  # fmt: skip
    # The unknown label is accepted only as the contract names it.
    other = dataclasses.replace(dc, options={**dc.options, "unknown_label": "unknown"})
    assert {c for c, _ in refusal(candidate, other).problems} == {"county", "age_band"}
    candidate.unpersist()


def test_a_person_key_is_computed_by_the_plan_only(spark):
    """An unkeyed SHA-256 looks like a keyed pseudonym: a transform may not hand one over."""
    dc = _with(contract("gold/dual_enrollment.yaml"), months=3)
    candidate = dual_enrollment(dual_inputs(spark), SNAPSHOT, dc)
    unkeyed = candidate.withColumn("person_key", F.sha2("national_id", 256)).drop("national_id")
    (problem,) = refusal(unkeyed, dc).problems
    assert problem[0] == "person_key" and "hand over national_id" in problem[1]
    exc = refusal(candidate.drop("employer_ubn"), dc)
    assert exc.problems == (("employer_ubn", "the transform does not hand it over"),)


def test_free_text_needs_the_known_names(spark):
    dc = contract("gold/deceased_with_active_payments.yaml")
    candidate = deceased_with_active_payments(deceased_inputs(spark), SNAPSHOT, dc)
    (problem,) = refusal(candidate.drop("name"), dc).problems
    assert problem == ("remark_masked", "free text is scrubbed with the record's known names: "
                                        "hand over one of ['name']")
    (problem,) = refusal(candidate.withColumnRenamed("remark", "remark_masked"), dc).problems
    assert problem == ("remark_masked", "scan_free_text cannot be checked; hand over remark")


def test_the_plan_reads_inputs_of_the_policy_type(spark):
    dc = contract("gold/person_coverage.yaml")
    candidate = person_coverage(coverage_inputs(spark), SNAPSHOT, dc)
    as_text = candidate.withColumn("birth_date", F.col("birth_date").cast("string"))
    assert dict(refusal(as_text, dc).problems) == {
        "birth_year": "generalize_year reads a date; its input birth_date is string",
        "age_band": "generalize_band reads a date; its input birth_date is string"}


def test_the_publish_path_refuses_a_candidate_the_plan_refuses(ctx, root, monkeypatch):
    """Through ``stages.publish``: the refusal is a problem of the publish (column, count), the
    last version stays in place (here: none), no value is reported."""
    from pathlib import Path

    from kernel import contracts
    from sandbox.generate import generate
    from stages.feed import run_feed
    from stages.publish import publish

    generate(Path(root), feeds=["moi.household_registry"], persons=20, seed=21, days=1)
    run_feed(ctx, contracts.feed("moi.household_registry"))
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", SECRET)
    original = residents_coverage.residents_coverage

    def raw_county(inputs: Mapping[str, DataFrame], snapshot_date: dt.date,
                   dc: DatasetContract) -> DataFrame:  # fmt: skip
        out = original(inputs, snapshot_date, dc)
        return out.withColumn("county", F.col("address")).drop("address")

    monkeypatch.setattr(residents_coverage, "residents_coverage", raw_county)
    res = publish(ctx, residents_coverage.contract(), SNAPSHOT)
    assert res.status == "refused"
    (problem,) = res.problems
    residents = ctx.storage.read("silver", "moi.residents").collect()
    assert problem.file == "county" and problem.reason == (
        f"masking plan: {len(residents)} row(s) not in the published form of generalize_county")
    assert not [r for r in residents if r["address"] in str(res.as_dict())]
    assert not ctx.storage.exists("gold", "person_coverage")



def test_importing_the_dataset_plan_does_not_import_presidio():
    import subprocess
    import sys
    from pathlib import Path

    code = "import masking.dataset_plan, sys; print('presidio_analyzer' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == "False"
