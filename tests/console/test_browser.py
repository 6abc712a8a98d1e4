"""The console as a steward sees it: Airflow's API server started on a small real lakehouse
(``conftest.lakehouse``), signed in through Airflow's own login form in headless Chromium
(:mod:`tests.browser`), then the DAG list, the Lakehouse page, a run's quality report, a feed's
quarantine and a publishing run's lineage report opened in the Airflow UI, each checked for what
it shows; an analyst refused the lineage report, an anonymous visitor everything; and a feed DAG
triggered through the REST API, run by the scheduler to its end, failing with its reason as its
note and first in its check task's log.

Airflow runs as a user's ``make airflow`` runs it, with the API server and the DAGs parsed into
its database (``airflow dags reserialize``), and the scheduler (LocalExecutor, only the runs the
test triggers) for the trigger test, in a throw-away ``AIRFLOW_HOME`` with the simple auth
manager's users and passwords given. The runs the lakehouse recorded are created in Airflow
through its REST API, so the UI shows their run pages. Screenshots are kept: under pytest's
temporary folder and, when ``LAKEHOUSE_CONSOLE_SCREENSHOTS`` names a folder, copied there.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from kernel import contracts
from tests.browser import Browser, chromium
from tests.console.conftest import (
    FAILING_FILE,
    FEED,
    PUBLISH_DAG,
    PUBLISH_RUN,
    RUN_2,
    Lakehouse,
)
from tests.screens import read_png

USERS = {"steward": ("admin", "steward-console-pw"), "analyst": ("viewer", "analyst-console-pw")}
"""Airflow users of the test: name → (Airflow role, password)."""
BIN = Path(sys.executable).parent
FRAME = "document.querySelector('iframe')?.contentDocument?.body?.innerText ?? ''"
"""The text of the page the Airflow UI shows in its plugin iframe."""


@dataclass(frozen=True)
class Server:
    """Airflow's API server under test."""

    url: str
    shots: Path
    root: str
    """The lakehouse it serves."""
    env: dict[str, str]
    """Airflow's environment (for the scheduler the trigger test starts)."""

    def api(self, method: str, path: str, body: dict[str, object] | None = None,
            token: str | None = None) -> dict[str, object]:
        """Call Airflow's REST API; the JSON answer."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return dict(json.load(answer))
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from None

    def token(self, user: str) -> str:
        answer = self.api("POST", "/auth/token", {"username": user,
                                                  "password": USERS[user][1]})
        return str(answer["access_token"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(home: Path, port: int, root: str) -> dict[str, str]:
    """Airflow's configuration for the test, as ``make airflow`` has it, on ``root``."""
    (home / "passwords.json").write_text(json.dumps({u: p for u, (_, p) in USERS.items()}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update({
        "AIRFLOW_HOME": str(home), "LAKEHOUSE_ROOT": root,
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(Path(__file__).resolve().parents[2] / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
            f"{u}:{role}" for u, (role, _) in USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the runs the test triggers
        "AIRFLOW__API_AUTH__JWT_SECRET": "console-browser-test-jwt-secret-0123456789abcdef",
    })
    return env


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise AssertionError("Airflow's API server did not answer: "
                         + log.read_text(errors="replace")[-3000:])


@pytest.fixture(scope="module")
def server(lakehouse: Lakehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Airflow's API server on the lakehouse, its DAGs parsed; stopped at the end."""
    chromium()
    home = tmp_path_factory.mktemp("airflow-console")
    port = _free_port()
    env = _env(home, port, lakehouse.root)
    log = home / "api-server.log"
    with log.open("ab") as out:
        for cmd in (["db", "migrate"], ["dags", "reserialize"]):
            done = subprocess.run([str(BIN / "airflow"), *cmd], env=env, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=180, check=False)
            assert done.returncode == 0, log.read_text(errors="replace")[-3000:]
        proc = subprocess.Popen(
            [str(BIN / "airflow"), "api-server", "-H", "127.0.0.1", "-p", str(port), "-w", "1"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield Server(url, tmp_path_factory.mktemp("console-screens"), lakehouse.root, env)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _keep(server: Server, browser: Browser, name: str) -> None:
    """Screenshot the page as ``<name>.png``, kept; it is a real, painted page."""
    shot = server.shots / f"{name}.png"
    screen = read_png(browser.screenshot(shot))
    assert (screen.width, screen.height) == (1280, 900)
    assert len(screen.colours) > 20, f"{name}: a blank screenshot"
    keep = os.environ.get("LAKEHOUSE_CONSOLE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)


def _quarantined_rules(root: str) -> set[str]:
    """The rule ids of the feed's quarantined rows (read with deltalake)."""
    from deltalake import DeltaTable

    rows = DeltaTable(f"{root}/quarantine/{FEED.name}").to_pyarrow_table(
        columns=["_rule_ids"]).to_pylist()
    rules = {rule for r in rows for rule in r["_rule_ids"]}
    assert rules
    return rules


def _sign_in(browser: Browser, server: Server, user: str) -> None:
    """Sign in through Airflow's login form, as a person does."""
    browser.open(f"{server.url}/")
    browser.wait("document.querySelector('input[type=password]')", what="the login form")
    browser.type("input[name=username]", user)
    browser.type("input[name=password]", USERS[user][1])
    browser.evaluate("document.querySelector('button[type=submit]').click()")
    browser.wait("!location.pathname.startsWith('/auth')", what="the sign-in")


def _frame(browser: Browser, url: str, text: str) -> str:
    """Open ``url`` in the Airflow UI and wait until its plugin iframe shows ``text``."""
    browser.open(url)
    browser.wait(f"({FRAME}).includes({json.dumps(text)})", what=f"{text!r} in {url}")
    return str(browser.evaluate(FRAME))


def test_a_steward_sees_the_console_in_the_airflow_ui(server: Server, tmp_path: Path) -> None:
    """Signed in: the DAG list with tags, the Lakehouse page, a run's quality report, the
    feed's quarantine and the publishing run's lineage report, each in the Airflow UI."""
    token = server.token("steward")
    for dag, run in ((FEED.name, RUN_2), (PUBLISH_DAG, PUBLISH_RUN)):
        server.api("POST", f"/api/v2/dags/{dag}/dagRuns",
                   {"dag_run_id": run, "logical_date": None}, token)
    browser = Browser(tmp_path / "profile")
    try:
        browser.open(f"{server.url}/lakehouse/")
        browser.wait("document.body.innerText.includes('Not signed in')", what="a refusal")
        _sign_in(browser, server, "steward")
        browser.open(f"{server.url}/dags")
        browser.wait(f"document.body.innerText.includes({json.dumps(PUBLISH_DAG)})",
                     what="the DAG list")
        listed = str(browser.evaluate("document.body.innerText"))
        dags = len(contracts.feeds()) + len(contracts.datasets())
        assert f"{dags} Dags" in listed and "agency:moi" in listed and "zone:silver" in listed
        _keep(server, browser, "dags")

        text = _frame(browser, f"{server.url}/plugin/lakehouse", "Datasets")
        assert "signed in as steward (lakehouse role: steward)" in text
        assert "gate failed, 1 refused" in text and "gold.person_coverage" in text
        _keep(server, browser, "lakehouse")

        runs = f"{server.url}/dags/{FEED.name}/runs/{quote(RUN_2, safe='')}"
        text = _frame(browser, f"{runs}/plugin/lakehouse-quality", FAILING_FILE)
        assert "notes.txt" in text
        _keep(server, browser, "quality")

        text = _frame(browser, f"{server.url}/dags/{FEED.name}/plugin/lakehouse-quarantine",
                      "quarantined rows")
        assert "all rules" in text
        assert _quarantined_rules(server.root) <= set(text.split())
        _keep(server, browser, "quarantine")

        publish = f"{server.url}/dags/{PUBLISH_DAG}/runs/{quote(PUBLISH_RUN, safe='')}"
        text = _frame(browser, f"{publish}/plugin/lakehouse-lineage", PUBLISH_RUN)
        assert "gold.person_coverage" in text
        _keep(server, browser, "lineage")
    finally:
        browser.close()


def test_an_analyst_is_refused_the_lineage_report(server: Server, tmp_path: Path) -> None:
    browser = Browser(tmp_path / "profile")
    try:
        _sign_in(browser, server, "analyst")
        browser.open(f"{server.url}/lakehouse/datasets/gold.person_coverage/lineage")
        browser.wait("document.body.innerText.includes('Not allowed')", what="the refusal")
        assert "role analyst may not read lineage reports" in str(
            browser.evaluate("document.body.innerText"))
    finally:
        browser.close()


TRIGGERED = "moa.farmer_registry"
"""The feed DAG the trigger test runs: nothing was ever delivered, so its freshness gate fails
(and none of the other tests' runs are of it)."""


@pytest.fixture
def scheduler(server: Server, tmp_path: Path) -> Iterator[None]:
    """Airflow's scheduler (LocalExecutor) beside the API server; stopped at the end."""
    log = tmp_path / "scheduler.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([str(BIN / "airflow"), "scheduler"], env=server.env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _finished(server: Server, token: str, run: str, timeout: float = 300) -> dict[str, object]:
    """Poll the run through the REST API until it has finished; the run."""
    deadline = time.monotonic() + timeout
    while True:
        found = server.api("GET", f"/api/v2/dags/{TRIGGERED}/dagRuns/{quote(run, safe='')}",
                           token=token)
        if found["state"] in ("success", "failed"):
            return found
        assert time.monotonic() < deadline, f"the run is still {found['state']}"
        time.sleep(2)


def test_a_triggered_feed_run_fails_with_its_reason_in_its_note_and_first_in_its_log(
        server: Server, scheduler: None, tmp_path: Path) -> None:
    """Triggered through the REST API as the UI triggers it, the feed's run goes through the
    scheduler and its tasks (Spark) and fails its freshness gate: the run's note is the line
    ``lakehouse run`` prints, the first line the check task logs, and the run page shows it."""
    token = server.token("steward")
    server.api("PATCH", f"/api/v2/dags/{TRIGGERED}", {"is_paused": False}, token)
    run = "manual__console-trigger"
    server.api("POST", f"/api/v2/dags/{TRIGGERED}/dagRuns",
               {"dag_run_id": run, "logical_date": None}, token)
    done = _finished(server, token, run)
    line = f"{TRIGGERED}: -: gate.freshness: no delivery has ever landed"
    assert done["state"] == "failed"
    assert str(done["note"]).startswith(line) and "\n" not in str(done["note"])
    logged = server.api("GET", f"/api/v2/dags/{TRIGGERED}/dagRuns/{quote(run, safe='')}"
                               "/taskInstances/check/logs/1", token=token)
    ours = [str(e.get("event")) for e in logged["content"]  # type: ignore[union-attr]
            if isinstance(e, dict) and e.get("logger") == "lakehouse"]
    assert ours and ours[0] == done["note"]
    browser = Browser(tmp_path / "profile")
    try:
        _sign_in(browser, server, "steward")
        browser.open(f"{server.url}/dags/{TRIGGERED}/runs/{quote(run, safe='')}")
        browser.wait(f"document.body.innerText.includes({json.dumps(line)})", what="the note")
        _keep(server, browser, "note")
    finally:
        browser.close()
