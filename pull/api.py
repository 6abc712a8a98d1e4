"""Pull a paginated JSON API with a bearer token (``delivery.kind: api_pull``), e.g. the NHIA.

``pull(ctx, contract, folder, since)`` fetches a token (``POST {base}{token_endpoint}``, client
credentials as HTTP Basic authentication plus the form body ``grant_type=client_credentials``),
then ``GET {base}{endpoint}?changed_since=<since>&page=N&page_size=M`` for ``N`` = 1 … the
``total_pages`` page 1 states, with ``Authorization: Bearer <token>``. Each page is written to
``folder`` as ``page-00001.json``, … exactly as received (the raw bytes), **before** it is
parsed; then it must be UTF-8 JSON with the ``records`` array, the page asked for and the same
``total_pages`` as page 1.

Where the API is (first found wins):

1. the Airflow connection ``connection`` (default ``<agency>_api``: ``nhia_api``), inside an
   Airflow task or when ``AIRFLOW_CONN_<ID>`` is set: host (with its scheme, or the
   connection's schema / type ``http``/``https``, and port) = base URL, login = client id,
   password = client secret;
2. the settings ``<prefix>_BASE_URL``, ``<prefix>_CLIENT_ID``, ``<prefix>_CLIENT_SECRET``
   (``settings_prefix``, default ``LAKEHOUSE_<AGENCY>``: ``LAKEHOUSE_NHIA_…``);
   ``<prefix>_PROXY`` routes a configured source's requests through an HTTP proxy (the
   process environment's proxy variables are not read); redirects are never followed (the
   bearer token stays with the API's host);
3. neither: the embedded default. The bundled simulator (:mod:`sandbox.simulator.<agency>`)
   is started on localhost for the duration of the pull, serving the generator's data under
   ``<root>/<simulator_data>`` (default :meth:`kernel.layout.Layout.source_dir`,
   ``sources/<agency>/<table>``: ``sources/nhia/insured_status``) with the credentials
   of its ``simulator.json`` (unless the settings name a client id and secret). On an
   object-store root the generator's data is a local folder named by ``LAKEHOUSE_SOURCES_DIR``
   (``<dir>/<agency>/<table>``; the demo on the cluster profile sets it); without it the pull
   is refused with the reason.

Faults: a ``401`` gets a new token, once per request (a token expired during a long pull); a
``429`` waits ``Retry-After`` seconds (capped at ``max_retry_after_seconds``); ``500``, ``502``,
``503``, ``504``, connection errors and timeouts wait ``backoff_seconds`` doubled on each try
(capped at ``max_backoff_seconds``). Each request is tried at most ``max_retries`` times
(attempts, the first included), then the pull is refused:
``page 3: 503 Service Unavailable after 5 attempts``. Any other status, a non-JSON answer
(``page 2: not JSON (content-type text/html)``) or a page that contradicts page 1 refuses the
pull at once. Messages name the page and the reason: never the token, the secret, or a value.

Watermark: ``since`` is the date of the previous pull (ISO ``YYYY-MM-DD``; ``None`` on the first
pull: no ``changed_since``, everything). The returned watermark is the pull's date
(``ctx.now.date()``), so the next pull asks for the records changed on or after that day: the
records changed on the watermark day after this pull are not missed, and those this pull already
received come again; they are the same events, which the silver stage counts as duplicates and
drops (the feed's event key is every field). A re-pull that returns exactly the same pages is
refused by the landing stage as a duplicate delivery.

Options (``delivery.options``; the defaults in :class:`ApiOptions`): ``endpoint``,
``token_endpoint``, ``page_size``, ``records_key``, ``max_retries``, ``timeout_seconds``,
``backoff_seconds``, ``max_backoff_seconds``, ``max_retry_after_seconds``, ``connection``,
``settings_prefix``, ``simulator_data``.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import http.client
import importlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from http import HTTPStatus
from http.client import HTTPMessage
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from kernel.contracts import ContractError, FeedContract
from kernel.errors import DeliveryError
from pull import Pulled
from pull.connections import airflow_connection

if TYPE_CHECKING:
    from kernel.context import Context

SOURCES_DIR_ENV = "LAKEHOUSE_SOURCES_DIR"
"""A local folder of the bundled simulators' data (``<dir>/<agency>/<table>``), for a storage
root that is not local (the demo on an object store)."""

PAGE_FILE = "page-{:05d}.json"
RETRYABLE = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class ApiOptions:
    """The puller's settings from the contract's ``delivery.options``."""

    endpoint: str = "/v1/insured-status"
    token_endpoint: str = "/v1/token"
    page_size: int = 1000
    records_key: str = "records"
    max_retries: int = 5
    """Attempts per request (the first included) for 429, 5xx and connection errors."""
    timeout_seconds: float = 30.0
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    max_retry_after_seconds: float = 120.0
    connection: str = ""
    """Airflow connection id (default ``<agency>_api``)."""
    settings_prefix: str = ""
    """Settings prefix (default ``LAKEHOUSE_<AGENCY>``)."""
    simulator_data: str = ""
    """The bundled simulator's data under the root (default: the layout's
    ``sources/<agency>/<table>``, :meth:`kernel.layout.Layout.source_dir`)."""

    @classmethod
    def from_contract(cls, contract: FeedContract) -> ApiOptions:
        """Validate and read the options; a wrong one raises :class:`ContractError`."""
        raw = dict(contract.delivery.options)
        where = "delivery.options"
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ContractError(contract.path, where, f"unknown option(s) {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for key, value in raw.items():
            kind = type(getattr(cls(), key))
            try:
                values[key] = kind(value)
            except (TypeError, ValueError):
                raise ContractError(contract.path, f"{where}.{key}",
                                    f"expected {kind.__name__}") from None
        agency = contract.name.split(".", 1)[0]
        opts = cls(**values)
        opts = dataclasses.replace(
            opts,
            connection=opts.connection or f"{agency}_api",
            settings_prefix=opts.settings_prefix or f"LAKEHOUSE_{agency.upper()}",
        )
        if opts.page_size < 1 or opts.max_retries < 1 or opts.timeout_seconds <= 0:
            raise ContractError(contract.path, where,
                                "page_size, max_retries and timeout_seconds must be positive")
        for key in ("endpoint", "token_endpoint"):
            if not getattr(opts, key).startswith("/"):
                raise ContractError(contract.path, f"{where}.{key}", "must start with /")
        return opts


@dataclass(frozen=True)
class Source:
    """Where to pull from: the base URL (no credentials in it) and the client credentials."""

    base_url: str
    client_id: str
    client_secret: str = dataclasses.field(repr=False)


# ---------------------------------------------------------------------------- configuration
def _from_airflow(env: Mapping[str, str], conn_id: str) -> Source | None:
    """The source from the Airflow connection ``conn_id`` (:func:`pull.connections.
    airflow_connection`): host (with its scheme, or the connection's schema / type
    ``http``/``https``, and port) = base URL, login = client id, password = client secret."""
    conn = airflow_connection(env, conn_id)
    if conn is None:
        return None
    host = conn.host.rstrip("/")
    if "://" not in host:
        scheme = next((s for s in (conn.schema, conn.conn_type) if s in ("http", "https")),
                      "https")
        host = f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
    return Source(public_url(host), conn.login, conn.password)


def configured_source(ctx: Context, opts: ApiOptions) -> Source | None:
    """The configured source (Airflow connection, else settings), or None: embedded default."""
    found = _from_airflow(ctx.settings.env, opts.connection)
    if found is not None:
        return found
    base = ctx.settings.get(f"{opts.settings_prefix}_BASE_URL")
    if not base:
        return None
    return Source(public_url(base), ctx.settings.get(f"{opts.settings_prefix}_CLIENT_ID") or "",
                  ctx.settings.get(f"{opts.settings_prefix}_CLIENT_SECRET") or "")


@contextlib.contextmanager
def embedded_source(ctx: Context, contract: FeedContract, opts: ApiOptions) -> Iterator[Source]:
    """The bundled simulator on the generator's data, running for the duration of the block."""
    hint = (f"set {opts.settings_prefix}_BASE_URL (with _CLIENT_ID and _CLIENT_SECRET) or the "
            f"Airflow connection {opts.connection}")
    root, sources = ctx.layout.local, ctx.settings.get(SOURCES_DIR_ENV)
    if sources is not None:
        data = Path(sources).joinpath(*contract.name.split(".", 1))
    elif root is None:
        raise DeliveryError(f"no API configured ({hint}); the bundled simulator serves a "
                            f"local storage root only (or a local {SOURCES_DIR_ENV})")
    else:
        data = root / opts.simulator_data if opts.simulator_data else \
            ctx.layout.source_dir(contract.name)
    if not (data / "simulator.json").is_file():
        raise DeliveryError(f"no API configured ({hint}) and no simulator data in {data} "
                            "(run 'lakehouse generate')")
    try:
        module = importlib.import_module(f"sandbox.simulator.{contract.agency}")
    except ImportError:
        raise DeliveryError(f"no API configured ({hint}) and no bundled simulator for "
                            f"{contract.agency}") from None
    factory = getattr(module, "Simulator", None)
    if factory is None:
        raise DeliveryError(f"no API configured ({hint}) and no bundled simulator for "
                            f"{contract.agency}")
    simulator = factory(data)
    client_id = ctx.settings.get(f"{opts.settings_prefix}_CLIENT_ID")
    secret = ctx.settings.get(f"{opts.settings_prefix}_CLIENT_SECRET")
    with simulator:
        yield Source(simulator.base_url, client_id or simulator.config.client_id,
                     secret or simulator.config.client_secret)


def public_url(url: str) -> str:
    """``url`` without user info (credentials: they come from the client id and secret),
    query, fragment or trailing slash."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


# ---------------------------------------------------------------------------- HTTP
@dataclass
class _Response:
    status: int
    body: bytes
    headers: Mapping[str, str]


def _phrase(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as it is (and refused): the bearer token never follows it."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: HTTPMessage, newurl: str) -> urllib.request.Request | None:
        return None


class Client:
    """The API client of one pull: token, retries, backoff. Never logs or reports secrets.

    Requests go to ``source`` directly, or through ``proxy`` when given (the environment's
    proxy variables are not read); redirects are not followed.
    """

    def __init__(self, source: Source, opts: ApiOptions,
                 sleep: Callable[[float], None] = time.sleep, proxy: str | None = None) -> None:
        self.source = source
        self.opts = opts
        self.sleep = sleep
        self.base = source.base_url.rstrip("/")
        self._token: str | None = None
        proxies = {"http": proxy, "https": proxy} if proxy else {}
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler(proxies),
                                                   _NoRedirect())

    def _send(self, request: urllib.request.Request) -> _Response:
        """One HTTP exchange; statuses as data, network failures as OSError."""
        try:
            with self._opener.open(request, timeout=self.opts.timeout_seconds) as resp:
                return _Response(resp.status, resp.read(), dict(resp.headers.items()))
        except urllib.error.HTTPError as err:
            try:
                body = err.read()
            except (OSError, http.client.HTTPException):
                body = b""
            return _Response(err.code, body, dict(err.headers.items()) if err.headers else {})
        except urllib.error.URLError as err:
            raise OSError(_network_reason(err.reason)) from None
        except (OSError, http.client.HTTPException) as err:
            raise OSError(_network_reason(err)) from None

    def _with_retries(self, what: str, make: Callable[[], urllib.request.Request],
                      authorised: bool) -> _Response:
        """Send until an answer other than 429/5xx/network failure, at most ``max_retries``
        attempts; a 401 of an authorised request gets a new token once."""
        attempts, renewed, wait = 0, False, self.opts.backoff_seconds
        while True:
            attempts += 1
            try:
                resp = self._send(make())
            except OSError as exc:
                reason = f"connection failed ({exc})"
                resp = None
            if resp is not None:
                if resp.status == 401 and authorised and not renewed:
                    renewed = True
                    attempts -= 1  # not a failure of the source: the token expired
                    self._token = self._fetch_token()
                    continue
                if resp.status != 429 and resp.status not in RETRYABLE:
                    return resp
                reason = _phrase(resp.status)
            if attempts >= self.opts.max_retries:
                raise DeliveryError(f"{what}: {reason} after {attempts} attempts")
            if resp is not None and resp.status == 429:
                self.sleep(_retry_after(resp.headers, wait, self.opts.max_retry_after_seconds))
            else:
                self.sleep(wait)
                wait = min(wait * 2, self.opts.max_backoff_seconds)

    def _fetch_token(self) -> str:
        creds = f"{self.source.client_id}:{self.source.client_secret}".encode()
        body = urllib.parse.urlencode({"grant_type": "client_credentials"}).encode()

        def make() -> urllib.request.Request:
            return urllib.request.Request(
                self.base + self.opts.token_endpoint, data=body, method="POST",
                headers={"Authorization": "Basic " + base64.b64encode(creds).decode("ascii"),
                         "Content-Type": "application/x-www-form-urlencoded",
                         "Accept": "application/json"})

        resp = self._with_retries("token endpoint", make, authorised=False)
        if resp.status == 401:
            raise DeliveryError("token endpoint: 401 Unauthorized (the client id or secret "
                                "was refused)")
        if resp.status != 200:
            raise DeliveryError(f"token endpoint: {_phrase(resp.status)}")
        try:
            token = json.loads(resp.body.decode("utf-8"))["access_token"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise DeliveryError("token endpoint: no access_token in the answer") from None
        if not isinstance(token, str) or not token:
            raise DeliveryError("token endpoint: no access_token in the answer")
        return token

    def get_page(self, page: int, since: str | None) -> _Response:
        """Page ``page`` of the records changed on or after ``since``."""
        query: dict[str, str | int] = {}
        if since:
            query["changed_since"] = since
        query.update(page=page, page_size=self.opts.page_size)
        url = f"{self.base}{self.opts.endpoint}?{urllib.parse.urlencode(query)}"
        if self._token is None:
            self._token = self._fetch_token()

        def make() -> urllib.request.Request:
            return urllib.request.Request(url, headers={
                "Authorization": f"Bearer {self._token}", "Accept": "application/json"})

        return self._with_retries(f"page {page}", make, authorised=True)


def _network_reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, BaseException):
        return type(reason).__name__
    return "network error"


def _retry_after(headers: Mapping[str, str], default: float, cap: float) -> float:
    """``Retry-After`` in seconds (a number; an HTTP date is not expected), capped."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        seconds = float(value) if value is not None else default
    except ValueError:
        seconds = default
    return max(0.0, min(seconds, cap))


# ---------------------------------------------------------------------------- the pull
def _parse_page(body: bytes, headers: Mapping[str, str], page: int,
                opts: ApiOptions) -> tuple[int, int]:
    """(total_pages, records) of a received page; DeliveryError names what is wrong."""
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    mime = ctype.split(";")[0].strip().lower()
    if not (mime == "application/json" or mime.endswith("+json")):
        raise DeliveryError(f"page {page}: not JSON (content-type {mime or 'missing'})")
    try:
        doc = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DeliveryError(f"page {page}: not valid UTF-8 (byte {exc.start + 1})") from None
    except json.JSONDecodeError as exc:
        raise DeliveryError(f"page {page}: not JSON ({exc.msg} at byte {exc.pos + 1})") from None
    if not isinstance(doc, dict):
        raise DeliveryError(f"page {page}: not a JSON object")
    records = doc.get(opts.records_key)
    if not isinstance(records, list):
        raise DeliveryError(f"page {page}: no {opts.records_key} array")
    total = doc.get("total_pages")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise DeliveryError(f"page {page}: no total_pages")
    if doc.get("page") != page:
        raise DeliveryError(f"page {page}: the answer is another page")
    return total, len(records)


def pull(ctx: Context, contract: FeedContract, folder: str, since: str | None) -> Pulled:
    """Pull every page of the records changed since ``since`` into ``folder`` (see the module
    docstring); the configured source, else the bundled simulator."""
    opts = ApiOptions.from_contract(contract)
    if since is not None:
        try:
            date.fromisoformat(since)
        except ValueError:
            raise DeliveryError("the previous pull's watermark is not an ISO date") from None
    source = configured_source(ctx, opts)
    if source is not None:
        proxy = ctx.settings.get(f"{opts.settings_prefix}_PROXY")
        return pull_from(ctx, source, opts, folder, since, proxy=proxy)
    with embedded_source(ctx, contract, opts) as embedded:
        return pull_from(ctx, embedded, opts, folder, since)


def pull_from(ctx: Context, source: Source, opts: ApiOptions, folder: str,
              since: str | None, sleep: Callable[[float], None] = time.sleep,
              proxy: str | None = None) -> Pulled:
    """Pull from ``source``: pages 1 … total_pages, each landed raw before it is parsed."""
    client = Client(source, opts, sleep, proxy)
    files: list[str] = []
    records = 0
    total: int | None = None
    page = 1
    while total is None or page <= max(total, 1):
        resp = client.get_page(page, since)
        if resp.status == 401:
            raise DeliveryError(f"page {page}: 401 Unauthorized, even with a fresh token")
        if resp.status != 200:
            raise DeliveryError(f"page {page}: {_phrase(resp.status)}")
        name = PAGE_FILE.format(page)
        ctx.storage.write_bytes(f"{folder}/{name}", resp.body)  # as received, before parsing
        files.append(name)
        stated, count = _parse_page(resp.body, resp.headers, page, opts)
        if total is None:
            total = stated
        elif stated != total:
            raise DeliveryError(f"page {page}: total_pages changed from {total} to {stated} "
                                "during the pull (the source changed while paging)")
        records += count
        page += 1
    return Pulled(files=files, records=records, watermark=ctx.now.date().isoformat(),
                  source=public_url(source.base_url + opts.endpoint),
                  file_date=ctx.now.date())
