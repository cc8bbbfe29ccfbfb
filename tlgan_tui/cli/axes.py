"""`tlgan axes`: the axes of the model in use, where each comes from, and their fit quality."""

from __future__ import annotations

import argparse

from tlgan_tui.cli.common import QUALITY_LABELS, UsageError, add_model_options, format_quality, identity_line, open_engine, say_notes

HELP = (
    "list the axes of the model in use, with their fit quality; `axes import FILE.npy --name NAME --out FILE.npz` adds published "
    "directions; `axes adopt ID --generator pggan --weights FILE` says the weights are the published model ID (its axes, "
    "sessions and recipes), remembered until `axes forget`"
)


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from tlgan_tui.generators.published import PUBLISHED

    parser = commands.add_parser("axes", help=HELP, description=HELP)
    parser.add_argument(
        "action", nargs="?", choices=("import", "adopt", "forget"),
        help="import: add the directions of FILE as axes; adopt: open these weights as the published model ID from now on; forget: undo adopt",
    )
    parser.add_argument(
        "file", nargs="?", metavar="FILE|ID",
        help="import: directions, .npy of shape (D,), (1, D) or (k, D) (InterFaceGAN, SeFa), or GANSpace's .npz; "
        f"adopt: the published model ({', '.join(PUBLISHED)})",
    )
    parser.add_argument("--name", help="the imported axis's name (several directions become NAME-0, NAME-1, ...)")
    parser.add_argument("--space", choices=("z", "w"), help="the space the directions were found in (default: the model's own; StyleGAN edits in w)")
    parser.add_argument("--out", metavar="FILE.npz", help="axis file to write: the imported axes are merged into it (or into the axes in use)")
    add_model_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    if args.action == "import":
        return import_directions(args)
    if args.name or args.out or args.space:
        raise UsageError("--name, --space and --out go with `tlgan axes import`")
    if args.action in ("adopt", "forget"):
        return adopt_or_forget(args)
    if args.file:
        raise UsageError("FILE goes with `tlgan axes import`, ID with `tlgan axes adopt`")
    return list_axes(args)


def adopt_or_forget(args: argparse.Namespace) -> int:
    import shlex

    from tlgan_tui import adoptions
    from tlgan_tui.generators import pggan_identity
    from tlgan_tui.generators.pggan_formats import read_pggan
    from tlgan_tui.generators.published import PUBLISHED, published_model
    from tlgan_tui.paths import adopted_models_path
    from tlgan_tui.safe_text import shown

    usage = "tlgan axes adopt ID --generator pggan --weights FILE" if args.action == "adopt" else "tlgan axes forget --generator pggan --weights FILE"
    if args.action == "adopt" and not args.file:
        raise UsageError(f"{usage}: ID is the published model the weights are (one of {', '.join(PUBLISHED)})")
    if args.action == "forget" and args.file:
        raise UsageError(f"{usage}: the weights name what to forget, no ID goes with it")
    if args.generator != "pggan" or not args.weights:
        raise UsageError(f"{usage}: published models are adopted for pg-GAN weights (other models are named by their weights and get SeFa axes)")
    if args.axes or args.as_model:
        raise UsageError(f"--axes and --as-model do not go with `tlgan axes {args.action}`")
    checkpoint = read_pggan(args.weights)
    identity = pggan_identity(checkpoint)
    say_notes(adoptions.unsaid_notes())
    weights = shown(args.weights)
    if args.action == "forget":
        gone = adoptions.forget(checkpoint.fingerprint)
        if gone is None:
            print(f"{weights} was not adopted: it opens as {identity.id}, named by its weights")
        else:
            print(f"forgot that {weights} is {gone.model_id}: it opens as {checkpoint.generator_id} again, named by its weights")
        return 0
    model = published_model(args.file)
    before = adoptions.adopt(identity, checkpoint.latent_dim, checkpoint.channels, model.id, args.weights)
    was = f" (it was adopted as {before.model_id})" if before is not None and before.model_id != model.id else ""
    gives = f", with {model.axes}" if model.axes else ""
    print(
        f"{weights} ({checkpoint.generator_id} by its weights) now opens as {model.id}, {model.title}{gives}{was}; "
        f"in every layout and after `tlgan convert` too. Remembered in {shown(adopted_models_path())}; "
        f"`tlgan axes forget --generator pggan --weights {shown(shlex.quote(args.weights))}` undoes it"
    )
    return 0


def import_directions(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tlgan_tui.axes import AxisSet
    from tlgan_tui.axes_import import import_axes
    from tlgan_tui.discover import merge_into
    from tlgan_tui.fileio import check_writable_folder

    if not args.file or not args.name:
        raise UsageError("tlgan axes import FILE --name NAME --out FILE.npz: FILE and --name are required")
    if not args.out or not args.out.endswith(".npz"):
        raise UsageError("--out FILE.npz is required: the axis file to write (an axis file ends in .npz)")
    out = Path(args.out)
    check_writable_folder(out)
    engine = open_engine(args)
    found = import_axes(args.file, args.name, engine.generator, args.space)
    base = AxisSet.load(out) if out.is_file() else engine.axes
    base.check_generator(engine.generator.id, engine.generator.latent_dim, engine.generator.edit_space)
    axes = merge_into(found, base)
    axes.save(out)
    print(f"wrote {out} ({len(axes)} axes; imported {', '.join(found.names)}); use it with --axes {out}")
    return 0


def list_axes(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape as escape_markup
    from rich.table import Table

    from tlgan_tui.safe_text import shown, shown_markup
    from tlgan_tui.paths import user_axes_path
    from tlgan_tui.user_axes import user_axis_names

    engine = open_engine(args)
    axes = engine.axes
    generator = engine.generator
    if generator.identity is not None:
        print(f"model: {identity_line(generator.identity)}")
    yours = user_axis_names(generator) if not args.axes else set()
    source = axes.path or "computed now (SeFa; no axis file ships for this generator)"
    # Names, units and descriptions come from the axis file: controls escaped, and markup too,
    # since Rich would interpret it in a table cell.
    title = f"{len(axes)} axes for {shown(axes.generator_id)} from {shown(source, 400)}"
    table = Table(title=shown_markup(title, 600), title_justify="left", box=None)
    rows = []
    for axis in axes.info:
        step = axis.format_value(1.0) if axis.per_step is not None and axis.unit else ""
        rows.append(tuple(shown(text) for text in (axis.name, axis.method, step, format_quality(axis.quality), axis.description)))
    # Every column but the description keeps its full width; the description gets what is left.
    console = Console(soft_wrap=True)
    headings = ("axis", "method", "per unit step", "fit quality")
    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(headings)]
    for column, width in zip(headings, widths):
        table.add_column(column, no_wrap=True, width=width)
    room = console.width - sum(width + 2 for width in widths) - 2
    if room >= 12:
        table.add_column("description", no_wrap=True, overflow="ellipsis", max_width=room)
    for row in rows:
        table.add_row(*(escape_markup(cell) for cell in (row if room >= 12 else row[: len(headings)])))
    console.print(table)
    if yours:
        console.print(f"yours (taught, from {user_axes_path(generator.id)}): {', '.join(shown(name) for name in axes.names if name in yours)}", markup=False)
    if any(key in QUALITY_LABELS for axis in axes.info for key in axis.quality):
        console.print("fit quality: acc / R² = held-out accuracy / R² of the fit; stab = cosine of the directions fitted on two halves of the faces", style="dim")
    return 0
