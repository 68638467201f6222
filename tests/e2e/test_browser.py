"""The playground as a person meets it: ``artisto run`` without a token, its URL opened in
headless Chromium, a photo uploaded through the page's file input, a style tapped, and the
painting shown in the chat. Screenshots are kept in ``test-artifacts/`` (git-ignored).

Chromium is Debian's package (``make browser`` installs it); without it the test is skipped
and says so. The browser is driven over the DevTools protocol (``tests/e2e/cdp.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from PIL import Image

from bot.config import ENV_PREFIX
from playground.options import SAMPLES_DIR
from tests.e2e.cdp import Chromium, Page, find_chromium

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        find_chromium() is None,
        reason="Debian's chromium is not installed: `make browser` (as root) installs it",
    ),
]

ARTISTO = Path(sys.executable).with_name("artisto")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
URL_LINE = re.compile(r"artisto playground: open (http://127\.0\.0\.1:\d+/) in a browser")
START_S = 180.0
"""Imports and migrations on a busy two-core machine; usually well under a minute."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def artisto_run(
    folder: Path, styles_dir: Path
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process, Path]]:
    """``artisto run`` as a user starts it (no token), stopped with Ctrl+C at the end;
    yields the URL it printed, the process and its log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)} | {
        "ARTISTO_DATA_DIR": str(folder / "data"),
        "ARTISTO_BOT__PLAYGROUND_PORT": str(_free_port()),
        "ARTISTO_INFERENCE__STYLES_DIR": str(styles_dir),
        "ARTISTO_INFERENCE__DEVICE": "cpu",
        "ARTISTO_INFERENCE__CPU_THREADS": "1",
        "ARTISTO_INFERENCE__WARMUP": "false",
        "ARTISTO_INFERENCE__MAX_SIDE": "256",
        "OMP_NUM_THREADS": "1",
    }
    log = folder / "artisto.log"
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            str(ARTISTO), "run", cwd=folder, env=env, stdout=asyncio.subprocess.PIPE, stderr=stderr
        )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), START_S)
        found = URL_LINE.match(line.decode())
        assert found, f"no URL line, got {line!r}; log: {log.read_text()[-2000:]}"
        yield found[1], process, log
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


def _photo(path: Path) -> Path:
    """A bundled sample with faces, made small (256 px) so the test stays quick."""
    image = Image.open(SAMPLES_DIR / "mariachi.jpg")
    image.thumbnail((256, 256))
    image.save(path, "JPEG", quality=90)
    return path


def _find(selector: str, text: str) -> str:
    """JavaScript: the last element at ``selector`` whose text contains ``text``."""
    return (
        f"[...document.querySelectorAll({json.dumps(selector)})]"
        f".reverse().find(e => e.innerText.includes({json.dumps(text)}))"
    )


async def _mark(page: Page, expression: str, mark: str) -> str:
    """Give the element ``expression`` finds an id, for a real click on it."""
    await page.wait_for(f"{expression} !== undefined", what=expression)
    await page.evaluate(f"{expression}.id = {json.dumps(mark)}")
    return f"#{mark}"


async def test_the_page_paints_an_uploaded_photo(tmp_path: Path, styles_dir: Path) -> None:
    photo = _photo(tmp_path / "mariachi.jpg")
    # The browser starts while artisto does: both take seconds.
    async with (
        Chromium.launch(tmp_path / "chromium") as browser,
        artisto_run(tmp_path, styles_dir) as (url, process, log),
    ):
        page = await browser.open(url)
        await page.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=800,
            deviceScaleFactor=1,
            mobile=False,
        )
        try:
            await page.wait_for("document.querySelectorAll('#who button').length === 2")
            boris = _find("#who button", "Борис")  # he reads Russian
            await page.click(await _mark(page, boris, "be-boris"))
            assert await page.evaluate("document.getElementById('meBadge').textContent") == (
                "you are Борис"
            )

            await page.set_files("#fileInput", photo)
            await page.wait_for("!document.getElementById('attachmentBar').hidden")
            await page.click("#sendButton")
            await page.wait_for(
                "document.querySelector('.msg.out img.media')?.naturalWidth > 0", what="my photo"
            )

            await page.click(
                await _mark(page, _find(".msg.in .keyboard button", "Ember"), "pick-ember")
            )
            painted = "[...document.querySelectorAll('.msg.in img.media')].find(i => i.complete)"
            await page.wait_for(f"{painted}?.naturalWidth > 0", 60, "the painting")
            caption = await page.evaluate(f"{painted}.closest('.msg').innerText")
            assert "🎨 Ember — по мотивам: Test Painter, 1900" in caption
            size = await page.evaluate(f"[{painted}.naturalWidth, {painted}.naturalHeight]")
            assert size == list(Image.open(photo).size)
            await page.wait_for(  # the status message made way for the result
                "document.querySelectorAll('.msg.in').length === 1", what="only the painting"
            )
            shot = await page.screenshot(ARTIFACTS / "playground-browser.png")

            source = await page.evaluate(f"{painted}.src")
            async with aiohttp.ClientSession() as http, http.get(source) as response:
                shown = np.asarray(Image.open(io.BytesIO(await response.read())), np.float32)
            sent = np.asarray(Image.open(photo).convert("RGB"), np.float32)
            assert np.abs(shown - sent).mean() > 5, "the page shows a painting, not the photo"

            await page.call(
                "Emulation.setDeviceMetricsOverride",
                width=390,
                height=844,
                deviceScaleFactor=2,
                mobile=True,
            )
            await page.wait_for(f"{painted}.getBoundingClientRect().right <= 390")
            await page.screenshot(ARTIFACTS / "playground-browser-phone.png")
        except BaseException:
            await page.screenshot(ARTIFACTS / "playground-browser-failure.png")
            raise
        assert page.errors == [], f"the page raised: {page.errors}"
        with Image.open(shot) as image:
            assert image.size == (1280, 800)

    assert process.returncode == 0, f"Ctrl+C did not stop it cleanly: {log.read_text()[-2000:]}"
    assert "Traceback" not in log.read_text()
