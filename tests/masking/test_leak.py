"""The leak gate finds identifiers, phones, e-mails and known personal values, by column."""

from __future__ import annotations

from masking.leak import Finding, scan


def test_finds_patterns_and_known_values_without_values(spark):
    df = spark.createDataFrame(
        [("臺北市", "30-34", "ok"), ("新北市", "A123456789", "call 0912-345-678"),
         ("王小明", "x", "寫信 ming@example.com.tw")],
        "county string, age_band string, note string")
    known = {"PERSON_NAME": spark.createDataFrame([("王小明",), ("林一",)], "name string")}
    findings = scan(df, "gold.test", known)
    assert findings == [
        Finding("gold.test", "age_band", "TW_PERSON_ID", 1),
        Finding("gold.test", "county", "PERSON", 1),  # a name standing alone (Presidio)
        Finding("gold.test", "county", "PERSON_NAME", 1),  # and a known value
        Finding("gold.test", "note", "EMAIL", 1),
        Finding("gold.test", "note", "TW_PHONE", 1),
    ]
    text = " ".join(str(f) for f in findings)
    assert "A123456789" not in text and "王小明" not in text and "0912" not in text


def test_clean_candidate_and_person_keys_pass(spark):
    # A digest may start with a letter, 1 and eight digits by chance: not an identifier.
    digest = "a1" + "23456789" + "f" * 54
    df = spark.createDataFrame([(digest, "臺北市")], "person_key string, county string")
    assert scan(df, "gold.test", {}, ("person_key",)) == []


def test_a_pseudonym_column_holds_only_pseudonyms(spark):
    df = spark.createDataFrame([("A123456789",), ("b" * 64,)], "person_key string")
    known = {"TW_PERSON_ID": spark.createDataFrame([("A123456789",)], "v string")}
    assert scan(df, "gold.test", known, ("person_key",)) == [
        Finding("gold.test", "person_key", "NOT_A_PSEUDONYM", 1),
        Finding("gold.test", "person_key", "TW_PERSON_ID", 1),
    ]


def test_presidio_finds_full_width_phones_and_cued_names_with_row_counts(spark):
    df = spark.createDataFrame(
        [
            ("臺北市", "請洽０９１２－３４５－６７８王先生"),
            ("臺北市", "請洽０９１２－３４５－６７８王先生"),  # the same value twice: 2 rows
            ("新北市", "受款人陳大文已領取"),
            ("新北市", "案號11230861269，共26筆"),  # a case number, not personal data
            ("新北市", None),
        ],
        "county string, remark string",
    )
    findings = scan(df, "gold.test")
    assert findings == [
        Finding("gold.test", "remark", "PERSON", 1),
        Finding("gold.test", "remark", "TW_PHONE", 2),
    ]
    text = " ".join(str(f) for f in findings)
    assert "陳大文" not in text and "０９１２" not in text


def test_pattern_and_presidio_hits_of_one_row_count_once(spark):
    df = spark.createDataFrame([("來電0912-345-678",), ("住址臺北市中正區忠孝東路一段12號",)],
                               "note string")
    assert scan(df, "gold.test") == [
        Finding("gold.test", "note", "TW_ADDRESS", 1),
        Finding("gold.test", "note", "TW_PHONE", 1),
    ]


def test_a_huge_column_is_sampled_and_the_scan_says_so(spark):
    df = spark.createDataFrame([(f"來電09{i:08d}",) for i in range(40)], "note string")
    notes: list[str] = []
    findings = scan(df, "gold.test", max_distinct=10, notes=notes)
    assert len(findings) == 1 and findings[0].entity == "TW_PHONE"
    assert 0 < findings[0].count < 40
    assert notes and "gold.test.note" in notes[0] and "sample" in notes[0]
    assert "09" not in notes[0]


def test_business_ids_are_not_personal_data(spark):
    df = spark.createDataFrame([("投保單位統編04595257",)], "note string")
    assert scan(df, "gold.test") == []
