"""A tiny Chrome DevTools Protocol client, to open a page in headless Chromium
and see what a person's browser would: what loaded, what failed, what the
console said, where the keyboard goes.

It talks to Chromium over `--remote-debugging-pipe` (JSON messages ending in a
NUL byte, Chromium reading on fd 3 and writing on fd 4): no port, no
WebSocket library, nothing another process on the machine can reach.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--no-default-browser-check",
                  "--disable-extensions", "--window-size=1280,1600")
TIMEOUT_S = 30

# Run in the page once it has loaded: what a check needs from the DOM.
PAGE_FACTS = """JSON.stringify({
  lang: document.documentElement.lang,
  title: document.title,
  headings: [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].map(h => [h.tagName, h.textContent.trim()]),
  images: [...document.images].map(image => ({src: image.src, alt: image.getAttribute("alt"),
                                             complete: image.complete, width: image.naturalWidth})),
  links: [...document.querySelectorAll("a")].map(link => ({
    href: link.href, raw: link.getAttribute("href"),
    target_found: link.getAttribute("href")?.startsWith("#")
      ? document.getElementById(decodeURIComponent(link.hash.slice(1))) !== null : null})),
})"""

# What has the keyboard focus, and whether it shows (on the element or on its
# ::after, where a link stretched over a card draws its outline).
FOCUSED = """JSON.stringify((() => {
  const element = document.activeElement;
  const shown = style => style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  return {tag: element.tagName, href: element.getAttribute("href"),
          visible: shown(getComputedStyle(element)) || shown(getComputedStyle(element, "::after"))};
})())"""


def chromium() -> str:
    path = shutil.which("chromium")
    assert path, "Chromium is missing: run `bash .ci/setup` (it installs Debian's chromium package)"
    return path


@dataclass
class PageReport:
    """What happened while a page loaded, and what its DOM holds."""

    facts: dict
    requests: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


class Browser:
    """A headless Chromium with one page. Use as a context manager."""

    def __init__(self, profile: Path):
        self._profile = profile
        self._buffer = b""
        self._last_id = 0
        self.events: list[dict] = []

    def __enter__(self) -> Browser:
        chromium_reads, self._to_chromium = os.pipe()
        self._from_chromium, chromium_writes = os.pipe()

        def onto_fds_3_and_4():
            os.dup2(chromium_reads, 3)
            os.dup2(chromium_writes, 4)

        self._process = subprocess.Popen(
            [chromium(), *CHROMIUM_FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self._profile}",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=onto_fds_3_and_4)
        os.close(chromium_reads)
        os.close(chromium_writes)
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", page=True)
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.send("Browser.close")
            self._process.wait(TIMEOUT_S)
        except (OSError, RuntimeError, TimeoutError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()
        finally:
            os.close(self._to_chromium)
            os.close(self._from_chromium)

    def send(self, method: str, page: bool = False, **params) -> dict:
        """Call a protocol method (on the page when `page`) and return its result."""
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params}
        if page:
            message["sessionId"] = self._session
        os.write(self._to_chromium, json.dumps(message).encode() + b"\0")
        reply = self.wait_for(lambda received, number=self._last_id: received.get("id") == number)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def wait_for(self, wanted) -> dict:
        """The first message `wanted` accepts; events on the way are kept in `events`."""
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if wanted(message):
                    return message
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chromium], [], [], left)[0]:
                raise TimeoutError(f"Chromium did not answer within {TIMEOUT_S} s")
            chunk = os.read(self._from_chromium, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium exited (status {self._process.wait()})")
            self._buffer += chunk

    def evaluate(self, expression: str):
        """The value of a JavaScript expression that returns JSON text."""
        result = self.send("Runtime.evaluate", page=True, expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return json.loads(result["result"]["value"])

    def open(self, url: str) -> PageReport:
        """Load `url` and wait for its load event (which waits for every image)."""
        self.events.clear()
        self.send("Page.navigate", page=True, url=url)
        self.wait_for(lambda message: message.get("method") == "Page.loadEventFired")
        report = PageReport(self.evaluate(PAGE_FACTS))
        for event in self.events:
            method, params = event["method"], event["params"]
            if method == "Network.requestWillBeSent":
                report.requests.append(params["request"]["url"])
            elif method == "Network.loadingFailed":
                report.failed_loads.append(params["errorText"])
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                report.console_errors.append(" ".join(str(arg.get("value")) for arg in params["args"]))
            elif method == "Runtime.exceptionThrown":
                report.console_errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                report.console_errors.append(f"{params['entry']['text']} ({params['entry'].get('url', '')})")
        return report

    def press_tab(self) -> dict:
        """Press Tab; what has the focus then (see FOCUSED)."""
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", page=True, type=kind, key="Tab", code="Tab",
                      windowsVirtualKeyCode=9)
        return self.evaluate(FOCUSED)
