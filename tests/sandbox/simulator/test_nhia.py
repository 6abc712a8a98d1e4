"""The NHIA API simulator: a real HTTP server on localhost, as the specification describes it."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.generate import generate
from sandbox.generate.household import IssueRates
from sandbox.generate.nhi import source_dir
from sandbox.simulator.nhia import NhiaSimulator

START = dt.date(2024, 11, 3)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nhia-sim")
    generate(root, persons=300, seed=11, days=3, start=START, feeds=["nhia.insured_status"],
             rates=IssueRates.parse(["api_throttle=0", "api_unavailable=0"]))
    return source_dir(root)


def _lines(data: Path) -> list[dict]:
    return [json.loads(line) for line in (data / "records.jsonl").read_text("utf-8").splitlines()]


def _call(url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
          method: str | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read()


def _token(sim: NhiaSimulator) -> str:
    body = urllib.parse.urlencode({"grant_type": "client_credentials",
                                   "client_id": sim.config.client_id,
                                   "client_secret": sim.config.client_secret}).encode()
    status, _, raw = _call(sim.base_url + "/v1/token", body,
                           {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    return str(json.loads(raw)["access_token"])


def _page(sim: NhiaSimulator, token: str, **query: object) -> tuple[int, dict[str, str], bytes]:
    url = f"{sim.base_url}/v1/insured-status?{urllib.parse.urlencode(query)}"
    return _call(url, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def sim(data: Path) -> Iterator[NhiaSimulator]:
    with NhiaSimulator(data) as s:
        yield s


def test_token_by_form_json_or_basic_auth_and_401_for_wrong_credentials(sim):
    cid, secret = sim.config.client_id, sim.config.client_secret
    url = sim.base_url + "/v1/token"
    form = urllib.parse.urlencode({"client_id": cid, "client_secret": secret}).encode()
    basic = base64.b64encode(f"{cid}:{secret}".encode()).decode()
    answers = [
        _call(url, form, {"Content-Type": "application/x-www-form-urlencoded"}),
        _call(url, json.dumps({"client_id": cid, "client_secret": secret}).encode(),
              {"Content-Type": "application/json"}),
        _call(url, b"grant_type=client_credentials", {"Authorization": f"Basic {basic}"}),
    ]
    for status, headers, body in answers:
        doc = json.loads(body)
        assert status == 200 and headers["Content-Type"].startswith("application/json")
        assert set(doc) == {"access_token", "token_type", "expires_in"}
        assert doc["token_type"] == "Bearer" and doc["expires_in"] == 3600
    assert len({json.loads(b)["access_token"] for _, _, b in answers}) == 3
    wrong = urllib.parse.urlencode({"client_id": cid, "client_secret": secret + "x"}).encode()
    status, headers, body = _call(url, wrong, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401 and json.loads(body)["error"] == "invalid_client"
    assert _call(url, b"", {})[0] == 401
    # No token, or a made-up one: 401 on the data endpoint.
    assert _call(sim.base_url + "/v1/insured-status")[0] == 401
    assert _page(sim, "made-up")[0] == 401


def test_a_token_expires_after_the_configured_number_of_requests(data):
    with NhiaSimulator(data, token_requests=2) as sim:
        token = _token(sim)
        assert [_page(sim, token, page=1)[0] for _ in range(3)] == [200, 200, 401]
        status, headers, _ = _page(sim, token, page=1)
        assert status == 401 and "invalid_token" in headers["WWW-Authenticate"]
        assert _page(sim, _token(sim), page=1)[0] == 200


def test_pages_hold_every_record_once_in_file_order_and_come_back_identical(sim, data):
    lines = _lines(data)
    token = _token(sim)
    status, headers, first = _page(sim, token, page=1, page_size=40)
    doc = json.loads(first)
    assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8"
    assert doc["page"] == 1 and doc["page_size"] == 40
    assert doc["total_pages"] == math.ceil(len(lines) / 40)
    served = []
    for n in range(1, doc["total_pages"] + 1):
        page = json.loads(_page(sim, token, page=n, page_size=40)[2])
        assert page["page"] == n and len(page["records"]) == min(40, len(lines) - (n - 1) * 40)
        served.extend(page["records"])
    assert served == [line["record"] for line in lines]  # the change date is never served
    assert all("changed" not in r for r in served)
    assert _page(sim, token, page=1, page_size=40)[2] == first  # byte for byte
    assert _page(sim, token, page=doc["total_pages"] + 1, page_size=40)[0] == 404
    for bad in ({"page": 0}, {"page_size": 0}, {"page_size": 5001}, {"page": "x"},
                {"changed_since": "2024-13-01"}, {"changed_since": "20241105"}):
        assert _page(sim, token, **bad)[0] == 400, bad


def test_changed_since_returns_the_records_changed_on_or_after_the_day(sim, data):
    lines = _lines(data)
    token = _token(sim)
    for since in ("2024-11-04", "2024-11-05", "2024-11-06"):
        expected = [line["record"] for line in lines if line["changed"] >= since]
        doc = json.loads(_page(sim, token, changed_since=since, page_size=5000)[2])
        assert doc["records"] == expected
        assert doc["total_pages"] == math.ceil(len(expected) / 5000)
    assert 0 < len([line for line in lines if line["changed"] >= "2024-11-04"]) < len(lines) / 5
    assert json.loads(_page(sim, token, changed_since="2024-11-06")[2]) == {
        "page": 1, "page_size": 1000, "total_pages": 0, "records": []}


def test_throttling_and_outages_follow_the_seeded_request_sequence(data):
    statuses = []
    for _ in range(2):
        with NhiaSimulator(data, api_throttle=0.2, api_unavailable=0.15, seed=3,
                           token_requests=1000) as sim:
            token = _token(sim)
            answers = [_page(sim, token, page=1, page_size=10) for _ in range(30)]
            statuses.append([status for status, _, _ in answers])
            expected = [sim.fault(n) or 200 for n in range(1, 31)]
            assert statuses[-1] == expected
            for status, headers, body in answers:
                if status == 429:
                    assert headers["Retry-After"] == "1"
                    assert json.loads(body)["error"] == "too_many_requests"
    assert statuses[0] == statuses[1]  # deterministic given the seed
    assert {200, 429, 503} <= set(statuses[0])


def test_drills_html_instead_of_json_and_a_page_always_down(data):
    with NhiaSimulator(data, html_pages=(2,), down_pages=(3,)) as sim:
        token = _token(sim)
        status, headers, body = _page(sim, token, page=2, page_size=10)
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert body.startswith(b"<!DOCTYPE html>")
        assert [_page(sim, token, page=3, page_size=10)[0] for _ in range(3)] == [503] * 3
        assert _page(sim, token, page=4, page_size=10)[0] == 200
        assert sim.stats[503] == 3 and ("GET", "/v1/insured-status?page=2&page_size=10", 200) \
            in sim.history


def test_command_line_serves_the_data(data):
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.simulator.nhia", "--data", str(data), "--port", "0"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        cfg = json.loads((data / "simulator.json").read_text("utf-8"))
        assert cfg["client_secret"] not in line
        form = urllib.parse.urlencode({"client_id": cfg["client_id"],
                                       "client_secret": cfg["client_secret"]}).encode()
        status, _, body = _call(url + "/v1/token", form)
        assert status == 200 and json.loads(body)["token_type"] == "Bearer"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
