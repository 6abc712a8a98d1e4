"""The interactive documentation as an agency's developer sees it: ``/docs`` (Swagger UI) and
``/redoc`` opened in headless Chromium on the real service (``conftest.service``), their
JavaScript run from the service's own ``/static-docs/`` (no CDN is reachable from the bureau's
network), then the rendered DOM read and the screenshot's pixels counted (:mod:`tests.screens`).

The screenshots are kept as artefacts: under pytest's temporary folder (the last runs are kept)
and, when ``SERVICE_DOCS_SCREENSHOTS`` names a folder, copied there (``docs.png``,
``redoc.png``), as the lineage report's test does with ``LINEAGE_REPORT_SCREENSHOT``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import fastapi_offline
import pytest

from tests.browser import chromium
from tests.screens import Screen, read_png
from tests.services.conftest import Running

STATIC = Path(fastapi_offline.__file__).parent / "static"
"""The documentation's assets as the service serves them (``/static-docs/``)."""
TITLE = "Convergence Lakehouse data services"
OPERATIONS = [
    ("POST", "/oauth/token", "An access token by client credentials (RFC 6749 §4.4)"),
    ("GET", "/.well-known/jwks.json", "The public keys of tokens and answers (RFC 7517)"),
    ("POST", "/v1/verifications", "Is this person insured on this date? (a signed answer)"),
    ("GET", "/v1/datasets", "The datasets this caller may read"),
    ("GET", "/v1/datasets/{name}", "A dataset: description, columns, versions"),
    ("GET", "/v1/datasets/{name}/versions/{version}", "One version, streamed as Parquet or CSV"),
    ("GET", "/healthz", "Liveness and the version answering"),
]
"""Every operation of the service, in the order the documentation shows them."""
WIDTH, HEIGHT = 1280, 2000
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


# ----------------------------------------------------------------------------- the DOM
@dataclass
class Node:
    """An element of the rendered DOM."""

    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        """The element's text as the page reads it, whitespace collapsed (``<wbr>`` adds
        nothing; adjacent elements run on, as inline elements do)."""
        return " ".join(self.raw().split())

    def raw(self) -> str:
        return "".join(c if isinstance(c, str) else c.raw() for c in self.children)

    def find(self, test: Callable[[Node], bool]) -> list[Node]:
        """Every element below this one (document order) for which ``test(node)`` holds."""
        found: list[Node] = []
        for child in self.children:
            if isinstance(child, Node):
                if test(child):
                    found.append(child)
                found.extend(child.find(test))
        return found

    def by_class(self, name: str) -> list[Node]:
        return self.find(lambda n: name in n.classes)


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


# ----------------------------------------------------------------------------- the browser
def _browser(binary: str, profile: Path, *args: str) -> str:
    """Run headless Chromium with a throw-away profile and no network activity of its own,
    letting the page's scripts run (fetching /openapi.json, rendering) before it is read."""
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--no-first-run",
           f"--user-data-dir={profile}", "--virtual-time-budget=10000", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@dataclass(frozen=True)
class Page:
    """A documentation page as Chromium rendered it."""

    dom: Node
    screen: Screen


@pytest.fixture(scope="module")
def pages(service: Running, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Page]:
    """``/docs`` and ``/redoc``: the DOM after their scripts ran, and a screenshot (kept)."""
    binary = chromium()
    folder = tmp_path_factory.mktemp("docs-browser")
    keep = os.environ.get("SERVICE_DOCS_SCREENSHOTS")
    rendered: dict[str, Page] = {}
    for name in ("docs", "redoc"):
        url = f"{service.url}/{name}"
        dom = _browser(binary, folder / f"profile-{name}-dom", "--dump-dom", url)
        shot = folder / f"{name}.png"
        _browser(binary, folder / f"profile-{name}-shot", f"--screenshot={shot}",
                 f"--window-size={WIDTH},{HEIGHT}", url)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(keep) / shot.name)
        rendered[name] = Page(parse(dom), read_png(shot.read_bytes()))
    return rendered


def _sources(dom: Node) -> list[str]:
    """The ``src`` and ``href`` of every script, style sheet and image of the page."""
    return [n.attrs.get("src") or n.attrs.get("href", "")
            for n in dom.find(lambda n: n.tag in ("script", "link", "img"))
            if n.attrs.get("src") or n.attrs.get("href")]


# ----------------------------------------------------------------------------- Swagger UI
def test_swagger_ui_renders_the_title_and_every_operation(pages: dict[str, Page]) -> None:
    """Swagger UI ran (its bundle and style sheet from /static-docs/): the title with the
    version, the tags in order, and every operation's method, path and summary."""
    dom = pages["docs"].dom
    assert [n.text() for n in dom.find(lambda n: n.tag == "title")] == [
        f"{TITLE} - Swagger UI"]
    assert [n.text() for n in dom.by_class("title")] == [f"{TITLE} 1.0.0 OAS 3.1"]
    assert [n.text() for n in dom.by_class("opblock-tag")] == [
        "authorization", "e-verification", "datasets", "service"]
    shown = [(b.by_class("opblock-summary-method")[0].text(),
              b.by_class("opblock-summary-path")[0].text(),
              b.by_class("opblock-summary-description")[0].text())
             for b in dom.find(lambda n: "opblock" in n.classes)]
    assert shown == OPERATIONS
    paths = [n.attrs["data-path"] for n in dom.by_class("opblock-summary-path")]
    assert paths == [path for _, path, _ in OPERATIONS]
    assert sorted(_sources(dom)) == ["/static-docs/favicon.png",
                                     "/static-docs/swagger-ui-bundle.js",
                                     "/static-docs/swagger-ui.css"]


def _near(screen: Screen, rgb: tuple[int, int, int], tolerance: int = 1) -> int:
    """Pixels within ``tolerance`` of ``rgb`` on every channel (a blend rounds either way)."""
    total = 0
    for colour, n in screen.colours.items():
        got = (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
        if all(abs(g - w) <= tolerance for g, w in zip(got, rgb, strict=True)):
            total += n
    return total


def test_swagger_ui_paints_post_green_and_get_blue(pages: dict[str, Page]) -> None:
    """The screenshot shows the operations in Swagger's colours (light theme, read from the
    served swagger-ui.css): each operation's method badge and border in its method's colour
    (about 4,400 pixels each), its bar tinted with that colour at 10 % over white (about
    42,000 pixels each), as many of each as the DOM has operations of that method."""
    page = pages["docs"]
    screen = page.screen
    assert (screen.width, screen.height) == (WIDTH, HEIGHT)
    css = (STATIC / "swagger-ui.css").read_text(encoding="utf-8")
    count = {m: sum(1 for op in OPERATIONS if op[0] == m) for m in ("POST", "GET")}
    assert count == {"POST": 2, "GET": 5}
    per_op: dict[str, tuple[float, float]] = {}
    for method in count:
        name = method.lower()
        badge = re.search(rf"\.opblock\.opblock-{name} \.opblock-summary-method"
                          r"\{background:(#[0-9a-f]{6})\}", css)
        tint = re.search(rf"\.opblock\.opblock-{name}\{{background:rgba\((\d+),(\d+),(\d+),"
                         r"\.1\)", css)
        assert badge is not None and tint is not None
        r, g, b = (round(255 - 0.1 * (255 - int(c))) for c in tint.groups())
        per_op[method] = (screen.area(badge[1]) / count[method],
                          _near(screen, (r, g, b)) / count[method])
    for badge_area, tint_area in per_op.values():
        assert 3_000 <= badge_area <= 6_000, per_op
        assert 30_000 <= tint_area <= 55_000, per_op
    # The bars are the same size whatever the method: the areas per operation agree.
    assert abs(per_op["POST"][0] / per_op["GET"][0] - 1) < 0.05, per_op
    assert abs(per_op["POST"][1] / per_op["GET"][1] - 1) < 0.05, per_op


# ----------------------------------------------------------------------------- ReDoc
def test_redoc_renders_the_verification_operation(pages: dict[str, Page]) -> None:
    """ReDoc's standalone bundle (served by the service) ran: the title, and the verification
    operation with its summary, method and path, and the request's fields in order."""
    dom = pages["redoc"].dom
    assert [n.text() for n in dom.find(lambda n: n.tag == "title")] == [f"{TITLE} - ReDoc"]
    assert [n.text() for n in dom.find(lambda n: n.tag == "h1")] == [f"{TITLE} (1.0.0)"]
    sections = dom.find(lambda n: n.attrs.get("data-section-id")
                        == "operation/verifications_v1_verifications_post")
    assert len(sections) == 1
    (op,) = sections
    assert [n.text() for n in op.find(lambda n: n.tag == "h2")] == [OPERATIONS[2][2]]
    verbs = op.by_class("http-verb")
    assert [v.text() for v in verbs] == ["post"]
    buttons = op.find(lambda n: n.tag == "button" and any(c is verbs[0] for c in n.children))
    assert [b.text() for b in buttons] == ["post/v1/verifications"]
    assert [n.text() for n in op.by_class("property-name")] == [
        "id", "scheme", "date", "purpose", "consent", "request_ref"]
    assert "national ID or resident certificate number (never echoed)" in op.text()
    assert sorted(_sources(dom)) == [
        "/static-docs/favicon.png", "/static-docs/redoc.standalone.js"]


def test_redoc_paints_its_three_panels(pages: dict[str, Page]) -> None:
    """The screenshot shows ReDoc's layout in its theme (read from the served bundle): the
    menu column (260 px) in the sidebar colour, and the right panel (40 % of the rest) in its
    dark colour where no code sample covers it."""
    screen = pages["redoc"].screen
    assert (screen.width, screen.height) == (WIDTH, HEIGHT)
    js = (STATIC / "redoc.standalone.js").read_text(encoding="utf-8")
    sidebar = re.search(r'sidebar:\{width:"(\d+)px",backgroundColor:"(#[0-9a-fA-F]{6})"', js)
    panel = re.search(r'rightPanel:\{backgroundColor:"(#[0-9a-fA-F]{6})",width:"(\d+)%"', js)
    assert sidebar is not None and panel is not None
    menu = int(sidebar[1]) * HEIGHT
    right = (WIDTH - int(sidebar[1])) * int(panel[2]) // 100 * HEIGHT
    assert 0.95 * menu <= screen.area(sidebar[2]) <= menu
    assert 0.5 * right <= screen.area(panel[1]) <= right
