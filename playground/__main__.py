"""``python -m playground``: the emulator and its page alone, without the bot.

For working on the page, or for pointing a bot started by hand at it; ``artisto run``
without a token starts the emulator together with the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

from playground.emulator import BotApiEmulator
from playground.options import SAMPLES_DIR, EmulatorConfig


async def serve(host: str, port: int, samples: Path) -> None:
    emulator = BotApiEmulator(EmulatorConfig(samples_dir=samples))
    url = await emulator.start(host, port)
    print(f"playground page: {url}/", flush=True)  # noqa: T201 - command-line output
    print(f"bot API base:    {url}  token: {emulator.token}", flush=True)  # noqa: T201
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m playground", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    parser.add_argument(
        "--samples",
        type=Path,
        default=SAMPLES_DIR,
        help="folder of sample photos and videos (default: the bundled ones)",
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.samples))


if __name__ == "__main__":
    main()
