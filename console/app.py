"""The console's FastAPI app, mounted by Airflow's API server under ``/lakehouse``.

=========================================  ===============================================
``GET /``                                  the Lakehouse page: every feed and dataset
``GET /quality/index.html``                every run's quality report (the index)
``GET /quality/<page>.html``               one run's quality report, by its page name
``GET /runs/{dag_id}/{run_id}/quality``    a DAG run's quality report (the dag_run view)
``GET /runs/{dag_id}/{run_id}/lineage``    the lineage report of the version a publishing
                                           run published (the dag_run view)
``GET /datasets/{name}/lineage``           a dataset's lineage report (``?version=N``)
``GET /feeds/{feed}/quarantine``           a feed's quarantine: counts per batch and rule
``GET /feeds/{feed}/quarantine/records``   its open records as delivered (stewards only,
                                           audited; ``?batch=&rule=&limit=``)
=========================================  ===============================================

Every route depends on :func:`console.auth.viewer` (Airflow's authentication); a route about
one DAG asks Airflow whether the user may read its runs; lineage reports are for auditors and
stewards (the readers of the system zone); quarantined records for stewards, each reading in
the audit log (as ``lakehouse quarantine show``). Refusals and misses are short HTML pages with the
status (401 offers Airflow's login). The storage root is read per request
(``LAKEHOUSE_ROOT``); tables are read with ``deltalake``, never Spark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse

from console import auth, pages
from console.auth import Viewer

if TYPE_CHECKING:
    from kernel.contracts import FeedContract

LINEAGE_ROLES = ("auditor", "steward")
"""Who reads lineage reports: the readers of the system zone."""
RECORD_ROLES = ("steward",)
"""Who reads quarantined records (personal data, audited): as ``lakehouse quarantine show``."""
MAX_RECORDS = 200
"""The most records one page shows."""

Who = Annotated[Viewer, Depends(auth.viewer)]


def _root() -> str:
    from kernel.config import Settings

    return Settings.from_env().root


def _base(request: Request) -> str:
    """The app's mount point (``/lakehouse``), for absolute links."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _signed(who: Viewer) -> str:
    return f"signed in as {who.name} (lakehouse role: {who.role})"


def _dataset_of_dag(dag_id: str) -> str | None:
    """The dataset a publishing DAG (``publish.<table>``) publishes, or ``None``."""
    from kernel import contracts

    return next((dc.name for dc in contracts.datasets() if f"publish.{dc.table}" == dag_id),
                None)


def _feed(name: str) -> FeedContract:
    """The contract of feed ``name``; 404 when it is no feed (a publishing DAG)."""
    from kernel import contracts

    try:
        return contracts.feed(name)
    except KeyError:
        raise HTTPException(404, f"{name} is not a feed: the quarantine is a feed DAG's "
                                 "view") from None


def _quality_page(request: Request, run_id: str) -> HTMLResponse:
    """The quality report of ``run_id``, its link to the index pointed at the console's."""
    from quality.report import SystemTables, render_run

    tables = SystemTables.load(_root())
    if run_id not in tables.run_ids():
        return HTMLResponse(pages.message(
            "No quality report", f"run {run_id} left no record in the system tables (yet): "
            "nothing was delivered, or its tasks have not run."), status_code=404)
    text = render_run(tables, run_id).replace(
        'href="index.html"', f'href="{_base(request)}/quality/index.html"')
    return HTMLResponse(text)


def _lineage_page(dataset: str, version: int | None) -> HTMLResponse:
    """The lineage report of ``dataset`` at ``version`` (default: the latest), or a 404 page
    saying why there is none (not published, no such version, no such dataset)."""
    from deltalake.exceptions import TableNotFoundError

    from lineage.report import render_lineage_report

    try:
        return HTMLResponse(render_lineage_report(_root(), dataset, version))
    except TableNotFoundError:
        why = f"{dataset} is not published"
    except (ValueError, KeyError, OSError) as exc:
        why = f"{dataset}: {exc}"
    return HTMLResponse(pages.message("No lineage report", why), status_code=404)


def _refusal(request: Request, exc: HTTPException) -> HTMLResponse:
    """A refusal as a short page; a 401 offers Airflow's login page."""
    link = None
    if exc.status_code == 401:
        from airflow.api_fastapi.app import get_auth_manager

        try:
            link = (get_auth_manager().get_url_login(), "Log in to Airflow")
        except Exception:  # no auth manager initialised: nothing to offer
            link = None
    title = {401: "Not signed in", 403: "Not allowed"}.get(exc.status_code, "Not found")
    return HTMLResponse(pages.message(title, str(exc.detail), link),
                        status_code=exc.status_code, headers=exc.headers)


def create_app() -> FastAPI:
    """The console's app (its routes: module docstring)."""
    app = FastAPI(title="Lakehouse stewards' console", docs_url=None, redoc_url=None,
                  openapi_url=None)

    async def refused(request: Request, exc: Exception) -> HTMLResponse:
        assert isinstance(exc, HTTPException)
        return _refusal(request, exc)

    app.add_exception_handler(HTTPException, refused)
    _add_routes(app)
    _add_quarantine_routes(app)
    return app


def _add_routes(app: FastAPI) -> None:
    """The Lakehouse page, the quality and lineage reports (module docstring)."""

    @app.get("/", response_class=HTMLResponse)
    def lakehouse(request: Request, who: Who) -> HTMLResponse:
        from console.status import overview

        feeds, datasets = overview(_root())
        return HTMLResponse(pages.overview(_base(request), feeds, datasets, _signed(who)))

    @app.get("/quality/", response_class=HTMLResponse)
    @app.get("/quality/index.html", response_class=HTMLResponse)
    def quality_index(who: Who) -> HTMLResponse:
        from quality.report import SystemTables, render_index

        return HTMLResponse(render_index(SystemTables.load(_root())))

    @app.get("/quality/{name}", response_class=HTMLResponse)
    def quality_run(request: Request, name: str, who: Who) -> HTMLResponse:
        from quality.report import SystemTables, run_file_name

        runs = [r for r in SystemTables.load(_root()).run_ids() if run_file_name(r) == name]
        if not runs:
            raise HTTPException(404, f"no run report {name}")
        return _quality_page(request, runs[0])

    @app.get("/runs/{dag_id}/{run_id}/quality", response_class=HTMLResponse)
    def run_quality(request: Request, dag_id: str, run_id: str, who: Who) -> HTMLResponse:
        auth.require_dag(who, dag_id)
        return _quality_page(request, run_id)

    @app.get("/runs/{dag_id}/{run_id}/lineage", response_class=HTMLResponse)
    def run_lineage(dag_id: str, run_id: str, who: Who) -> HTMLResponse:
        auth.require_dag(who, dag_id)
        auth.require_role(who, LINEAGE_ROLES, "lineage reports")
        dataset = _dataset_of_dag(dag_id)
        if dataset is None:
            raise HTTPException(404, f"{dag_id} publishes no dataset: lineage reports are "
                                     "about the versions publishing runs publish")
        from console.status import publish_of_run
        from quality.report import SystemTables

        record = publish_of_run(SystemTables.load(_root()), run_id, dataset)
        if record is None:
            raise HTTPException(404, f"run {run_id} of {dag_id} published no version of "
                                     f"{dataset} (yet)")
        return _lineage_page(dataset, int(record["version"]))

    @app.get("/datasets/{name}/lineage", response_class=HTMLResponse)
    def dataset_lineage(name: str, who: Who, version: int | None = None) -> HTMLResponse:
        auth.require_role(who, LINEAGE_ROLES, "lineage reports")
        return _lineage_page(name, version)


def _add_quarantine_routes(app: FastAPI) -> None:
    """A feed's quarantine: its counts (anyone), its records (stewards, audited)."""

    @app.get("/feeds/{feed}/quarantine", response_class=HTMLResponse)
    def feed_quarantine(request: Request, feed: str, who: Who) -> HTMLResponse:
        from console.quarantine import counts

        _feed(feed)
        auth.require_dag(who, feed)
        rows, released = counts(_root(), feed)
        records = (f"{_base(request)}/feeds/{feed}/quarantine/records"
                   if who.role in RECORD_ROLES else None)
        return HTMLResponse(pages.quarantine(feed, rows, released, _signed(who), records))

    @app.get("/feeds/{feed}/quarantine/records", response_class=HTMLResponse)
    def feed_quarantine_records(feed: str, who: Who, batch: str | None = None,
                                rule: str | None = None, limit: int = 20) -> HTMLResponse:
        from console.quarantine import RECORD_COLUMNS, audit_reading, open_records

        fc = _feed(feed)
        auth.require_dag(who, feed)
        auth.require_role(who, RECORD_ROLES, "quarantined records (personal data)")
        root = _root()
        shown = open_records(root, fc, batch, rule, min(max(limit, 1), MAX_RECORDS))
        audit_reading(root, f"airflow:{who.name}", feed, batch, rule, len(shown))
        columns = [*RECORD_COLUMNS, *(f.name for f in fc.fields), "_raw_record"]
        return HTMLResponse(pages.records(feed, columns, shown, _signed(who)),
                            headers={"Cache-Control": "no-store"})
