"""The HTML report from the demo data, opened in real headless Chromium (Debian ``chromium``).

The test drives Chromium over the DevTools protocol (``--remote-debugging-pipe``: JSON messages on
file descriptors 3 and 4, no extra library), so what it checks is what the browser saw: every
request the page made (``Network.requestWillBeSent``), the DOM after load (``Runtime.evaluate``)
and a screenshot (``Page.captureScreenshot``). A control page with one remote image proves that
a request would be seen. DNS is mapped to nothing, so even a mistake cannot reach the internet.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (tests/setup.d/50-reports.sh)")


class Browser:
    """Headless Chromium with one page, driven over the DevTools pipe."""

    def __init__(self, profile: Path, width: int = 1200, height: int = 1800) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Chromium reads commands on fd 3 and writes replies and events on fd 4.
        self.proc = self._spawn(to_chrome_r, from_chrome_w, profile, width, height)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
            session=True,
        )
        self.call("Network.enable", session=True)
        self.call("Page.enable", session=True)

    @staticmethod
    def _spawn(read_fd: int, write_fd: int, profile: Path, width: int, height: int) -> subprocess.Popen:
        import fcntl

        # Move both ends above 4 first, so wiring them to 3 and 4 cannot overwrite one with the other.
        high_r, high_w = fcntl.fcntl(read_fd, fcntl.F_DUPFD, 10), fcntl.fcntl(write_fd, fcntl.F_DUPFD, 10)

        def wire() -> None:
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        try:
            return subprocess.Popen(
                [
                    CHROMIUM,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    "--no-first-run",
                    "--remote-debugging-pipe",
                    f"--user-data-dir={profile}",
                    "--host-resolver-rules=MAP * ~NOTFOUND",
                    f"--window-size={width},{height}",
                    "about:blank",
                ],
                pass_fds=(3, 4),
                preexec_fn=wire,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        finally:
            os.close(high_r)
            os.close(high_w)

    def call(self, method: str, *, session: bool = False, **params) -> dict:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _read(self, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            import select

            ready, _, _ = select.select([self._from_chrome], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url, session=True)
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._read())
        self.call("Runtime.evaluate", expression="1", session=True)  # let pending events arrive

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True, session=True)["result"].get(
            "value"
        )

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", format="png", session=True)["data"])

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "nightly.html"
    env = {k: v for k, v in os.environ.items() if k not in ("CHAOSQL_CONFIG", "CHAOSQL_SOURCE")}
    proc = subprocess.run(
        [sys.executable, "-m", "chaosql", "report", str(REPO / "examples" / "report.toml"), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr  # the example's stuck-injecting check fails on the demo data
    return out


def test_report_opens_with_tables_charts_and_no_network_request(browser, report):
    browser.open(report.as_uri())
    assert browser.requests() == [report.as_uri()]  # the document itself, nothing else
    sections = browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('section')].map(s => [s.id, s.className]))"
    )
    assert sections["stuck-injecting"] == "check-failed" and sections["summary"] == "check-failed"
    for ok in ("experiments-per-day", "phase-mix", "events-per-reason", "targets-per-node", "running-by-namespace"):
        assert sections[ok] == "ok", (ok, sections)
    tables = browser.evaluate("[...document.querySelectorAll('section table')].map(t => t.closest('section').id)")
    assert {"stuck-injecting", "experiments-per-day", "warning-events", "targets-per-node"} <= set(tables)
    rows = browser.evaluate("document.querySelectorAll('#warning-events tbody tr').length")
    assert rows == 20  # limit = 20 in the example
    charts = browser.evaluate("""[...document.querySelectorAll('figure.chart svg')].map(svg => ({
        section: svg.closest('section').id, width: svg.getBoundingClientRect().width,
        bars: svg.querySelectorAll('path').length}))""")
    assert {c["section"] for c in charts} == {
        "experiments-per-day",
        "phase-mix",
        "events-per-reason",
        "targets-per-node",
    }
    assert all(c["width"] > 300 and c["bars"] > 10 for c in charts), charts
    # the summary is written last but shown first
    order = browser.evaluate(
        "[...document.querySelectorAll('header, #summary, #stuck-injecting')]"
        ".map(e => [e.id || e.tagName, e.getBoundingClientRect().top])"
    )
    tops = {name: top for name, top in order}
    assert tops["HEADER"] < tops["summary"] < tops["stuck-injecting"]


def test_screenshot_is_not_blank(browser, report):
    from PIL import Image

    browser.open(report.as_uri())
    image = Image.open(io.BytesIO(browser.screenshot())).convert("RGB")
    assert image.size == (1200, 1800)
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50  # text, table rules and charts, not an empty page
    assert max(n for n, _ in colours) < 0.9 * image.size[0] * image.size[1]


def test_control_a_remote_image_is_seen(browser, tmp_path):
    """Were the report to fetch anything, the first test would see it: here is such a page."""
    page = tmp_path / "control.html"
    page.write_text('<!doctype html><img src="https://chaosql-control.invalid/pixel.png">')
    browser.open(page.as_uri())
    assert "https://chaosql-control.invalid/pixel.png" in browser.requests()
