"""The API puller against the real simulator on localhost: tokens, throttling, outages,
refusals, configuration, and every page landed byte for byte before it is parsed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernel import contracts
from kernel.config import Settings
from kernel.contracts import ContractError
from kernel.errors import DeliveryError
from pull import api, puller
from sandbox.generate import generate
from sandbox.generate.household import IssueRates
from sandbox.generate.nhi import source_dir
from sandbox.simulator.nhia import NhiaSimulator

FEED = contracts.feed("nhia.insured_status")
START = dt.date(2024, 11, 3)  # change dates 2024-11-03 … 2024-11-05; the test run is 11-05


def _contract(**options: object) -> contracts.FeedContract:
    opts = {**FEED.delivery.options, "page_size": 50, "backoff_seconds": 0.01, **options}
    return dataclasses.replace(FEED, delivery=dataclasses.replace(FEED.delivery, options=opts))


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with the simulator's data: 400 persons, no faults unless a test asks for them."""
    root = tmp_path_factory.mktemp("pull") / "lakehouse"
    generate(root, persons=400, seed=21, days=3, start=START, feeds=["nhia.insured_status"],
             rates=IssueRates.parse(["api_throttle=0", "api_unavailable=0"]))
    return root


@pytest.fixture
def data(lakehouse: Path) -> Path:
    return source_dir(lakehouse)


def _lines(data: Path) -> list[dict]:
    return [json.loads(x) for x in (data / "records.jsonl").read_text("utf-8").splitlines()]


def _ctx(ctx, env: dict[str, str], root: str | None = None):  # type: ignore[no-untyped-def]
    """The test context with these settings (and, if given, another storage root)."""
    from kernel.storage import Storage

    settings = Settings.from_env({"LAKEHOUSE_ROOT": root or ctx.storage.root, **env})
    storage = ctx.storage if root is None else Storage(ctx.storage.spark, root)
    return dataclasses.replace(ctx, settings=settings, storage=storage)


def _env(sim: NhiaSimulator) -> dict[str, str]:
    return {"LAKEHOUSE_NHIA_BASE_URL": sim.base_url,
            "LAKEHOUSE_NHIA_CLIENT_ID": sim.config.client_id,
            "LAKEHOUSE_NHIA_CLIENT_SECRET": sim.config.client_secret}


def _fetch(sim: NhiaSimulator, page: int, size: int, since: str | None = None) -> bytes:
    """A page asked again, directly (pages can be requested again, identical)."""
    form = urllib.parse.urlencode({"client_id": sim.config.client_id,
                                   "client_secret": sim.config.client_secret}).encode()
    with urllib.request.urlopen(sim.base_url + "/v1/token", form, timeout=10) as resp:
        token = json.loads(resp.read())["access_token"]
    query = {**({"changed_since": since} if since else {}), "page": page, "page_size": size}
    req = urllib.request.Request(
        f"{sim.base_url}/v1/insured-status?{urllib.parse.urlencode(query)}",
        headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return bytes(resp.read())


@pytest.fixture
def folder(tmp_path: Path) -> str:
    return str(tmp_path / "pulling")


def test_a_full_pull_through_throttling_outages_and_expired_tokens(ctx, data, folder):
    with NhiaSimulator(data, api_throttle=0.15, api_unavailable=0.2, seed=4,
                       token_requests=3) as sim:
        slept: list[float] = []

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            time.sleep(seconds)

        opts = api.ApiOptions.from_contract(_contract())
        source = api.Source(sim.base_url, sim.config.client_id, sim.config.client_secret)
        pulled = api.pull_from(_ctx(ctx, {}), source, opts, folder, None, sleep=sleep)
        lines = _lines(data)
        pages = -(-len(lines) // 50)
        assert pulled.files == [f"page-{n:05d}.json" for n in range(1, pages + 1)]
        assert pulled.records == len(lines)
        assert pulled.watermark == "2024-11-05" and pulled.file_date == dt.date(2024, 11, 5)
        assert pulled.source == f"{sim.base_url}/v1/insured-status"
        # The simulator threw each kind of fault at the pull, and the pull honoured them.
        assert sim.stats[429] >= 1 and sim.stats[503] >= 1 and sim.stats[401] >= 1
        assert slept.count(1.0) == sim.stats[429]  # Retry-After: 1
        assert sim.stats[200] == pages + sim.stats[401] + 1  # pages + a token per 401 + first
    served = []
    with NhiaSimulator(data) as again:  # the pages asked again (without faults): identical
        for n, name in enumerate(pulled.files, start=1):
            landed = (Path(folder) / name).read_bytes()
            assert landed == _fetch(again, n, 50)  # byte for byte what the API serves
            served.extend(json.loads(landed)["records"])
    assert served == [x["record"] for x in lines]


def test_an_incremental_pull_asks_for_the_changes_since_the_watermark(ctx, data, folder):
    with NhiaSimulator(data) as sim:
        c = _ctx(ctx, _env(sim))
        pulled = puller("api_pull").pull(c, _contract(page_size=10), folder, "2024-11-04")
        changed = [x["record"] for x in _lines(data) if x["changed"] >= "2024-11-04"]
        assert pulled.records == len(changed) > 0 and len(pulled.files) == -(-len(changed) // 10)
        got = [r for name in pulled.files
               for r in json.loads((Path(folder) / name).read_bytes())["records"]]
        assert got == changed
        assert all("changed_since=2024-11-04&page=" in target
                   for _, target, _ in sim.history if target.startswith("/v1/insured-status"))


def test_html_instead_of_json_is_refused_after_landing_the_page_as_received(ctx, data, folder):
    with NhiaSimulator(data, html_pages=(2,)) as sim, pytest.raises(DeliveryError) as err:
        puller("api_pull").pull(_ctx(ctx, _env(sim)), _contract(), folder, None)
    assert str(err.value) == "page 2: not JSON (content-type text/html)"
    assert (Path(folder) / "page-00002.json").read_bytes().startswith(b"<!DOCTYPE html>")


def test_retries_exhausted_are_refused_naming_the_page_and_the_reason(ctx, data, folder):
    with NhiaSimulator(data, down_pages=(3,)) as sim:
        with pytest.raises(DeliveryError) as err:
            puller("api_pull").pull(_ctx(ctx, _env(sim)), _contract(), folder, None)
        page3 = [s for _, target, s in sim.history if "page=3&" in target]
    assert str(err.value) == "page 3: 503 Service Unavailable after 5 attempts"
    assert page3 == [503] * 5


def test_wrong_credentials_are_refused_without_the_secret(ctx, data, folder):
    with NhiaSimulator(data) as sim:
        env = {**_env(sim), "LAKEHOUSE_NHIA_CLIENT_SECRET": "wrong-secret-value"}
        with pytest.raises(DeliveryError) as err:
            puller("api_pull").pull(_ctx(ctx, env), _contract(), folder, None)
    assert str(err.value) == ("token endpoint: 401 Unauthorized (the client id or secret was "
                              "refused)")
    assert "wrong-secret-value" not in str(err.value)


def test_an_unreachable_or_silent_source_is_refused_after_the_retries(ctx, folder):
    silent = socket.socket()  # listens, never answers: every request times out
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connection refused
    try:
        for port, reason in ((silent.getsockname()[1], "timed out"),
                             (closed_port, "ConnectionRefusedError")):
            env = {"LAKEHOUSE_NHIA_BASE_URL": f"http://user:pw@127.0.0.1:{port}",
                   "LAKEHOUSE_NHIA_CLIENT_ID": "id", "LAKEHOUSE_NHIA_CLIENT_SECRET": "s3cret"}
            with pytest.raises(DeliveryError) as err:
                puller("api_pull").pull(_ctx(ctx, env),
                                        _contract(max_retries=2, timeout_seconds=0.3),
                                        folder, None)
            assert str(err.value) == (f"token endpoint: connection failed ({reason}) after 2 "
                                      "attempts")
    finally:
        silent.close()


def test_a_redirect_is_not_followed_with_the_credentials(ctx, folder):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.path)
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/steal")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {"LAKEHOUSE_NHIA_BASE_URL": f"http://127.0.0.1:{server.server_address[1]}",
               "LAKEHOUSE_NHIA_CLIENT_ID": "id", "LAKEHOUSE_NHIA_CLIENT_SECRET": "s3cret"}
        with pytest.raises(DeliveryError) as err:
            puller("api_pull").pull(_ctx(ctx, env), _contract(), folder, None)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert str(err.value) == "token endpoint: 302 Found"
    assert seen == ["/v1/token"]


def test_the_airflow_connection_wins_over_the_settings(ctx, data, folder, monkeypatch):
    with NhiaSimulator(data) as sim:
        port = sim.base_url.rsplit(":", 1)[1]
        conn = {"conn_type": "http", "host": "127.0.0.1", "port": int(port), "schema": "http",
                "login": sim.config.client_id, "password": sim.config.client_secret}
        monkeypatch.setenv("AIRFLOW_CONN_NHIA_API", json.dumps(conn))
        env = {"AIRFLOW_CONN_NHIA_API": json.dumps(conn),
               "LAKEHOUSE_NHIA_BASE_URL": "http://127.0.0.1:9"}  # would fail if used
        pulled = puller("api_pull").pull(_ctx(ctx, env), _contract(page_size=500), folder, None)
    assert pulled.source == f"http://127.0.0.1:{port}/v1/insured-status"
    assert pulled.records == len(_lines(data))


def test_without_a_configured_api_the_bundled_simulator_serves_the_root(ctx, lakehouse,
                                                                        folder, tmp_path):
    c = _ctx(ctx, {}, root=str(lakehouse))
    pulled = puller("api_pull").pull(c, _contract(page_size=500), folder, None)
    assert pulled.records == len(_lines(source_dir(lakehouse)))
    assert pulled.source.startswith("http://127.0.0.1:")
    with pytest.raises(DeliveryError) as err:  # an empty root: nothing to serve
        puller("api_pull").pull(_ctx(ctx, {}, root=str(tmp_path / "empty")), _contract(),
                                folder, None)
    assert str(err.value).startswith(
        "no API configured (set LAKEHOUSE_NHIA_BASE_URL (with _CLIENT_ID and _CLIENT_SECRET) or "
        "the Airflow connection nhia_api) and no simulator data in ")
    with pytest.raises(DeliveryError) as err:
        puller("api_pull").pull(_ctx(ctx, {}, root="s3a://bucket/lakehouse"), _contract(),
                                folder, None)
    assert str(err.value).endswith("the bundled simulator serves a local storage root only "
                                   "(or a local LAKEHOUSE_SOURCES_DIR)")
    remote = _ctx(ctx, {"LAKEHOUSE_SOURCES_DIR": str(lakehouse / "sources")},
                  root="s3a://bucket/lakehouse")  # an object-store root, the data kept locally
    assert puller("api_pull").pull(remote, _contract(page_size=500), folder + "-2",
                                   None).records == pulled.records


def test_options_are_validated():
    opts = api.ApiOptions.from_contract(FEED)
    assert (opts.endpoint, opts.token_endpoint, opts.page_size, opts.records_key) == (
        "/v1/insured-status", "/v1/token", 1000, "records")
    assert (opts.connection, opts.settings_prefix, opts.simulator_data) == (
        "nhia_api", "LAKEHOUSE_NHIA", "sources/nhia/insured_status")
    with pytest.raises(ContractError, match="unknown option"):
        api.ApiOptions.from_contract(_contract(pagesize=10))
    with pytest.raises(ContractError, match="expected int"):
        api.ApiOptions.from_contract(_contract(page_size="many"))
    assert api.public_url("https://u:p@api.example:8443/v1/x?token=t") == \
        "https://api.example:8443/v1/x"


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    yield
    assert not [t for t in threading.enumerate() if t.name == "nhia-simulator"]
