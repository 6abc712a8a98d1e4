"""The pulled feeds: feed 4, the health insurance status (``nhia.insured_status``), paged
JSON from the agency's API; and feed 6, the benefit payments (``bli.benefit_payments``), read
from the agency's PostgreSQL database.

A pulled case's ``file`` is ``pull``; its ``files`` are the page bodies the test's HTTP server
answers (``serve``: content type and delay; ``options``: the puller's settings), or none with
``env`` pointing the puller at a closed port.
"""

from __future__ import annotations

import json
import random
from typing import Any

from kernel.twid import make_person_id
from tests.reliability.make_corpus.common import BENEFITS, NAMES, NHIA, Case


def nhia_records(seed: str, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"idNo": make_person_id(rng), "name": rng.choice(NAMES), "insuredCategory": "1",
             "unitName": "大同股份有限公司", "startDate": f"2019-{1 + rng.randrange(12):02d}-01",
             "endDate": None, "premiumSalary": rng.choice([25250, 30300, 45800])}
            for _ in range(n)]


def page(records: list[Any], number: int = 1, total: int = 1, size: int = 1000) -> bytes:
    doc = {"page": number, "page_size": size, "total_pages": total, "records": records}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


HTML = ("<!DOCTYPE html>\n<html><head><title>系統維護</title></head><body><h1>Service "
        "maintenance</h1><p>Please try again later.</p></body></html>\n").encode()
JSON_TYPE = "application/json; charset=utf-8"


def nhia_cases() -> list[Case]:
    cases: list[Case] = []

    def add(name: str, issue: str, description: str, expect: dict[str, Any],
            pages: dict[str, bytes], content_type: str = JSON_TYPE, delay: float = 0.0,
            options: dict[str, Any] | None = None) -> None:
        extra: dict[str, Any] = {"serve": {"content_type": content_type,
                                           "delay_seconds": delay}}
        if options:
            extra["options"] = options
        cases.append(Case(NHIA, name, issue, description, "pull", expect, pages, extra))

    add("html_instead_of_json", "API returning HTML instead of JSON",
        "a proxy's maintenance page (text/html, status 200) instead of page 1",
        {"outcome": "refused", "stage": "pull", "message": "page 1: not JSON (content-type "
                                                           "text/html)"},
        {"page-00001.json": HTML}, content_type="text/html; charset=utf-8")
    add("html_labelled_json", "API returning HTML instead of JSON",
        "the same HTML page, labelled application/json",
        {"outcome": "refused", "stage": "pull", "message": "page 1: not JSON (Expecting value "
                                                           "at byte 1)"},
        {"page-00001.json": HTML})
    add("timing_out", "API timing out",
        "the API answers after 3 s; the puller waits 1 s per request, 2 attempts",
        {"outcome": "refused", "stage": "pull",
         "message": "page 1: connection failed (timed out) after 2 attempts",
         "within_seconds": 60},
        {"page-00001.json": page(nhia_records(f"{NHIA}:timing_out", 5))}, delay=3.0,
        options={"timeout_seconds": 1, "max_retries": 2, "backoff_seconds": 0.01})
    add("truncated_json", "truncated file", "page 1 cut in the middle of a record",
        {"outcome": "refused", "stage": "pull",
         "message": "page 1: not JSON (Expecting ',' delimiter at byte 301)"},
        {"page-00001.json": page(nhia_records(f"{NHIA}:truncated_json", 5)).decode("utf-8")
         [:300].encode("utf-8")})

    def bad_records() -> bytes:
        r = nhia_records(f"{NHIA}:bad_records", 15)
        pid = r[2]["idNo"]
        r[2]["idNo"] = pid[:-1] + str((int(pid[-1]) + 1) % 10)
        r[6]["startDate"] = "2024-02-30"
        r[9]["name"] = "王\u0007明"
        r[11]["mobile"] = "0912000000"
        return page(r)
    add("bad_records", "identifiers with invalid check digits",
        "15 records: record 3's ID has a wrong check digit, record 7 starts on 30 February, "
        "record 10's name holds a BEL (escaped \\u0007), record 12 carries a new field",
        {"outcome": "quarantined", "records": 15, "silver": 12,
         "quarantined": {"national_id.check_digit": [3], "start_date.required": [7],
                         "start_date.valid": [7],
                         "record.malformed": [10]},
         "drift": ["new field mobile: in 1 of 15 record(s), first in record 12"]},
        {"page-00001.json": bad_records()})

    def renamed() -> bytes:
        return page([{("id" if k == "idNo" else k): v for k, v in x.items()}
                     for x in nhia_records(f"{NHIA}:renamed", 5)])
    add("renamed_required_field", "missing columns",
        "idNo renamed to id in every record",
        {"outcome": "refused", "stage": "bronze",
         "message": "required field(s) idNo (national_id) in none of the 5 records; the "
                    "records carry unknown field(s) id (renamed?)"},
        {"page-00001.json": renamed()})
    return cases


def benefits_cases() -> list[Case]:
    return [Case(BENEFITS, "database_unreachable", "database unreachable",
                 "the benefits database does not answer (nothing listens on the port)", "pull",
                 {"outcome": "refused", "stage": "pull", "message": "database unreachable: no "
                  "connection to jdbc:postgresql://localhost:1/benefits"},
                 extra={"env": {"LAKEHOUSE_BENEFITS_DB_URL": "postgresql://localhost:1/benefits"}})]
