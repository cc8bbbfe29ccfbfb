"""`tlgan` and its commands: parsing and messages only; the work is the engine's.

Each command is a module with `register(commands)` (its parser) and `run(args)` (exit code).
`tlgan` with no command runs `tlgan edit`, the editor.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Sequence

from tlgan_tui.cli.common import EXIT_USAGE, Parser, UsageError
from tlgan_tui.errors import TlganError

# Command name -> module under tlgan_tui.cli, in the order `tlgan --help` lists them.
COMMANDS = {
    "edit": "edit",
    "render": "render",
    "show": "show",
    "export": "export",
    "dataset": "dataset",
    "axes": "axes",
    "info": "info",
    "project": "project",
    "convert": "convert",
    "discover": "discover",
    "teach": "teach",
    "train-extractor": "train_extractor",
}
DEFAULT_COMMAND = "edit"


def command_module(name: str) -> ModuleType:
    return importlib.import_module(f"tlgan_tui.cli.{COMMANDS[name]}")


def build_parser() -> Parser:
    parser = Parser(prog="tlgan", description="Edit GAN-generated faces along named feature axes. With no command, tlgan runs `tlgan edit`, the editor.")
    commands = parser.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")
    for name in COMMANDS:
        sub = command_module(name).register(commands)
        sub.add_argument("--debug", action="store_true", help="show tracebacks (the whole chain of causes)")
    return parser


def with_command(argv: list[str]) -> list[str]:
    """argv with its command first: `tlgan --seed 3` opens the editor (`edit`), and options
    given before a command (`tlgan --generator pggan render ...`) go with that command."""
    if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help")):
        return argv
    at = next((i for i, word in enumerate(argv) if word in COMMANDS), None)
    if at is None:
        return [DEFAULT_COMMAND, *argv]
    return [argv[at], *argv[:at], *argv[at + 1 :]]


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(with_command(argv))
        return command_module(args.command).run(args)
    except TlganError as error:
        if debug:
            raise
        print(f"tlgan: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tlgan: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: say so in one line, the traceback is one flag away
        if debug:
            raise
        print(f"tlgan: internal error: {type(error).__name__}: {error} (run again with --debug for the traceback)", file=sys.stderr)
        return 1
