"""`tlgan axes`: the axes of the model in use, where each comes from, and their fit quality."""

from __future__ import annotations

import argparse

from tlgan_tui.cli.common import add_model_options, QUALITY_LABELS, format_quality, open_engine

HELP = "list the axes of the model in use, with their fit quality"


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("axes", help=HELP, description=HELP)
    add_model_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from tlgan_tui.paths import user_axes_path
    from tlgan_tui.safe_text import shown
    from tlgan_tui.user_axes import user_axis_names

    engine = open_engine(args)
    axes = engine.axes
    generator = engine.generator
    source = shown(axes.path) if axes.path else "computed now (SeFa; no axis file for this generator)"
    yours = user_axis_names(generator) if not args.axes else set()
    table = Table(title=f"{len(axes)} axes for {axes.generator_id} from {source}", title_justify="left", box=None)
    rows = []
    for axis in axes.info:
        step = axis.format_value(1.0) if axis.per_step is not None and axis.unit else ""
        rows.append((shown(axis.name), axis.method, step, format_quality(axis.quality), shown(axis.description)))
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
        table.add_row(*(row if room >= 12 else row[: len(headings)]))
    console.print(table)
    if yours:
        console.print(f"yours (taught, from {user_axes_path(generator.id)}): {', '.join(shown(name) for name in axes.names if name in yours)}", markup=False)
    if any(key in QUALITY_LABELS for axis in axes.info for key in axis.quality):
        console.print("fit quality: acc / R² = held-out accuracy / R² of the fit; stab = cosine of the directions fitted on two halves of the faces", style="dim")
    return 0
