"""Headless Chromium driven over the DevTools protocol, with aiohttp's websocket client.

No browser download and no driver binary: Debian's ``chromium`` is started with
``--remote-debugging-port=0``, writes the port it chose to ``DevToolsActivePort`` in its
profile folder, and this client talks JSON-RPC to the page's websocket. Only what the
browser test needs: navigate, evaluate, real mouse clicks, file inputs, screenshots, and the
page's uncaught errors (collected, so a test can insist there were none).

    async with Chromium.launch(tmp_path / "profile") as browser:
        page = await browser.open(url)
        await page.click("#sendButton")
        await page.screenshot(path)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import aiohttp

JsonDict = dict[str, Any]

CHROMIUM_NAMES = ("chromium", "chromium-browser")
_PORT_FILE = "DevToolsActivePort"
_LOG_FILE = "chromium.log"
VIEWPORT = (1280, 800)


class CdpError(RuntimeError):
    """The browser refused a command, a script threw, or a wait ran out."""


def find_chromium() -> str | None:
    """Debian's binary (``make browser`` installs it); None when absent."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Page:
    """One tab, over its own websocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[JsonDict]] = {}
        self._waiters: list[tuple[str, asyncio.Future[JsonDict]]] = []
        self.errors: list[str] = []
        """Uncaught exceptions and console errors, in the order the page raised them."""
        self._reader = asyncio.create_task(self._read())

    async def call(self, method: str, **params: Any) -> JsonDict:
        message_id = next(self._ids)
        future: asyncio.Future[JsonDict] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self._ws.send_str(json.dumps({"id": message_id, "method": method, "params": params}))
        return await asyncio.wait_for(future, 30)

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data: JsonDict = json.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is None or future.done():
                    continue
                if "error" in data:
                    future.set_exception(CdpError(f"{data['error'].get('message')}"))
                else:
                    future.set_result(data.get("result", {}))
            else:
                self._event(data["method"], data.get("params", {}))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(CdpError("the browser closed the connection"))

    def _event(self, method: str, params: JsonDict) -> None:
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            description = details.get("exception", {}).get("description") or details.get("text")
            self.errors.append(str(description))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            args = params.get("args", [])
            self.errors.append(" ".join(str(a.get("value", a.get("description"))) for a in args))
        for waited, future in list(self._waiters):
            if waited == method and not future.done():
                future.set_result(params)
                self._waiters.remove((waited, future))

    def expect(self, method: str) -> asyncio.Future[JsonDict]:
        """A future for the next ``method`` event; take it before acting."""
        future: asyncio.Future[JsonDict] = asyncio.get_running_loop().create_future()
        self._waiters.append((method, future))
        return future

    async def navigate(self, url: str) -> None:
        loaded = self.expect("Page.loadEventFired")
        result = await self.call("Page.navigate", url=url)
        if result.get("errorText"):
            raise CdpError(f"cannot open {url}: {result['errorText']}")
        await asyncio.wait_for(loaded, 30)

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (promises awaited)."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CdpError(f"{expression!r} threw: {text}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 20.0, what: str = "") -> Any:  # noqa: ASYNC109
        """Poll ``expression`` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                shown = await self.evaluate(
                    "[...document.querySelectorAll('.msg')].map(m => m.innerText).join(' | ')"
                )
                raise CdpError(
                    f"waited {timeout} s for {what or expression}; the chat shows: {shown}"
                )
            await asyncio.sleep(0.1)

    async def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element, as a person would make it: an
        element hidden under another one is not clicked through."""
        box = await self.evaluate(
            f"""(() => {{
                const node = document.querySelector({json.dumps(selector)});
                if (!node) return null;
                node.scrollIntoView({{block: "center"}});
                const r = node.getBoundingClientRect();
                return {{x: r.x + r.width / 2, y: r.y + r.height / 2, w: r.width, h: r.height}};
            }})()"""
        )
        if not box or not box["w"] or not box["h"]:
            raise CdpError(f"nothing visible to click at {selector!r}")
        hit = await self.evaluate(
            f"document.elementFromPoint({box['x']}, {box['y']})"
            f"?.closest({json.dumps(selector)}) === document.querySelector({json.dumps(selector)})"
        )
        if not hit:
            raise CdpError(f"{selector!r} is covered by another element")
        for kind in ("mousePressed", "mouseReleased"):
            await self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box["x"],
                y=box["y"],
                button="left",
                clickCount=1,
            )

    async def set_files(self, selector: str, *paths: Path) -> None:
        """Pick files in an ``<input type=file>``; the page gets its ``change`` event."""
        document = await self.call("DOM.getDocument")
        found = await self.call(
            "DOM.querySelector", nodeId=document["root"]["nodeId"], selector=selector
        )
        if not found.get("nodeId"):
            raise CdpError(f"no file input at {selector!r}")
        await self.call(
            "DOM.setFileInputFiles",
            files=[str(p.resolve()) for p in paths],
            nodeId=found["nodeId"],
        )

    async def screenshot(self, path: Path) -> Path:
        shot = await self.call("Page.captureScreenshot", format="png")
        await asyncio.to_thread(_write, path, base64.b64decode(shot["data"]))
        return path

    async def close(self) -> None:
        await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class Chromium:
    """A headless browser process in its own throwaway profile."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._http = aiohttp.ClientSession()
        self._pages: list[Page] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def launch(cls, profile: Path, binary: str | None = None) -> AsyncIterator[Chromium]:
        binary = binary or find_chromium()
        if binary is None:
            raise CdpError("no chromium binary")
        flags = [
            "--headless=new",
            # Root (CI containers) or no user namespaces: Chromium's own sandbox cannot start.
            # It only ever opens the local test page here.
            "--no-sandbox",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={profile}",
            f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--mute-audio",
            "about:blank",
        ]
        log = await asyncio.to_thread(_log_file, profile)
        process = await asyncio.create_subprocess_exec(binary, *flags, stdout=log, stderr=log)
        browser: Chromium | None = None
        try:
            port = await _devtools_port(profile, process)
            browser = cls(port)
            yield browser
        finally:
            if browser is not None:
                await browser._close()
            if process.returncode is None:
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
            log.close()

    async def open(self, url: str) -> Page:
        """The first tab, navigated to ``url``, with errors and page events reported."""
        async with self._http.get(f"http://127.0.0.1:{self.port}/json/list") as response:
            targets = await response.json()
        target = next(t for t in targets if t["type"] == "page")
        ws = await self._http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(ws)
        self._pages.append(page)
        for domain in ("Page", "Runtime", "DOM"):
            await page.call(f"{domain}.enable")
        await page.navigate(url)
        return page

    async def _close(self) -> None:
        for page in self._pages:
            await page.close()
        await self._http.close()


async def _devtools_port(profile: Path, process: asyncio.subprocess.Process) -> int:
    """The port Chromium chose, from the file it writes once it listens."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise CdpError(
                f"chromium exited with status {process.returncode} before it listened: "
                f"{await asyncio.to_thread(_log_tail, profile)}"
            )
        with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
            text = await asyncio.to_thread((profile / _PORT_FILE).read_text)
            return int(text.splitlines()[0])
        await asyncio.sleep(0.1)
    raise CdpError(
        "chromium did not open its debugging port within 30 s: "
        f"{await asyncio.to_thread(_log_tail, profile)}"
    )


def _log_file(profile: Path) -> IO[bytes]:
    profile.mkdir(parents=True, exist_ok=True)
    (profile / _PORT_FILE).unlink(missing_ok=True)  # a stale one would name a dead port
    return (profile / _LOG_FILE).open("wb")


def _log_tail(profile: Path) -> str:
    return (profile / _LOG_FILE).read_text(errors="replace")[-1500:]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
