"""`tlgan edit`, which bare `tlgan` runs: the editor."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tlgan_tui.cli.common import UsageError, add_model_options, add_size_option, open_engine, seed_value
from tlgan_tui.terminal import COLOR_SYSTEMS
from tlgan_tui.tui.graphics import MODES as GRAPHICS_MODES

HELP = "edit faces from the keyboard (what `tlgan` alone runs)"


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("edit", help=HELP, description=HELP)
    add_model_options(parser)
    group = parser.add_argument_group("editor")
    group.add_argument("--out", default="exports", metavar="DIR", help="where s and e write PNGs (default: ./exports)")
    group.add_argument("--session", metavar="FILE", help="session file (default: one per generator, $XDG_STATE_HOME/tlgan/session-GENERATOR.json, else ~/.local/state/tlgan/...)")
    group.add_argument("--resume", action="store_true", help="go on with the saved session without asking")
    start = group.add_mutually_exclusive_group()
    start.add_argument("--seed", type=seed_value, metavar="N", help="start on this seed's face")
    start.add_argument("--photo", metavar="FILE", help="start on the face in this photo, projected first (tlgan project gives more control)")
    group.add_argument("--graphics", choices=GRAPHICS_MODES, default="auto", help="how to draw the face (kitty and sixel need the [graphics] extra; default: auto)")
    group.add_argument("--colors", choices=COLOR_SYSTEMS, help="colour depth (default: truecolor, or $TEXTUAL_COLOR_SYSTEM when set)")
    add_size_option(group)
    group.add_argument("--keymap", metavar="FILE", help="key remapping, JSON of binding id -> keys (default: ~/.config/tlgan/keymap.json if present)")
    return parser


def run(args: argparse.Namespace) -> int:
    from tlgan_tui.tui.environment import configure_colors, configure_frame_rate, missing_terminal, tune_interpreter
    from tlgan_tui.tui.graphics import choose_graphics

    missing = missing_terminal()
    if missing is not None:
        raise UsageError(f"the editor needs a terminal, and {missing} is not one (tlgan render, show and export work without one)")

    # All before Textual is imported: it reads the colour depth and frame rate then, and
    # textual-image can only ask the terminal about graphics before Textual takes it over.
    configure_colors(args.colors)
    configure_frame_rate()
    graphics = choose_graphics(args.graphics)

    from tlgan_tui.errors import SessionError
    from tlgan_tui.paths import default_keymap_path
    from tlgan_tui.session import SessionLock, offer_or_set_aside, open_session, session_path_for
    from tlgan_tui.tui.editor import EditorScreen
    from tlgan_tui.tui.keymap import load_keymap

    keymap_ids = [binding.id for binding in EditorScreen.BINDINGS if binding.id]
    keymap = load_keymap(Path(args.keymap) if args.keymap else default_keymap_path(), keymap_ids, required=bool(args.keymap))
    engine = open_engine(args, print_notes=False)
    engine.generator.favour_latency()
    path = Path(args.session) if args.session else session_path_for(engine.generator.id)
    with SessionLock(path):  # a second editor on the same file is refused here, in one line
        session = offer = None
        notes: list[str] = list(engine.notes)
        if args.resume:
            if not path.is_file():
                raise SessionError(f"no session to resume at {path} (start tlgan without --resume to begin one)")
            session = open_session(path, engine)
        else:
            offer, note = offer_or_set_aside(path, engine)
            notes += [note] if note else []

        face = None
        if args.photo:
            from tlgan_tui.cli.common import progress_bars
            from tlgan_tui.photo.project import Settings
            from tlgan_tui.photo.workflow import project_photos

            print(f"tlgan: projecting {args.photo} into {engine.generator.id} before the editor opens", file=sys.stderr)
            with progress_bars({"start": "choosing a start", "project": "projecting"}.__getitem__) as progress:
                face = project_photos(engine, [args.photo], Settings(), progress=progress)[0].recipe

        from tlgan_tui.tui.app import EditorApp

        app = EditorApp(
            engine, session_path=path, session=session, offer=offer, out=args.out, graphics=graphics,
            seed=args.seed, face=face, keymap=keymap, notes=tuple(notes), image_size=args.size,
        )
        tune_interpreter()
        app.run()
        app.writer.close()
    if app.writer.error is not None:
        print(f"tlgan: the session was not saved: {app.writer.error}", file=sys.stderr)
        return 1
    if app.session is not None:
        print(f"tlgan: session saved in {path} ({len(app.session.marks)} marked); tlgan --resume goes on with it")
    return 0
