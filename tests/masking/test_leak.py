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
        Finding("gold.test", "county", "PERSON_NAME", 1),
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
