"""`tlgan teach`: an axis from a labels file (answers given elsewhere: a script, another person,
the editor's teach mode), without the editor."""

from __future__ import annotations

import argparse
from pathlib import Path

from tlgan_tui.cli.common import UsageError, add_model_options, open_engine

HELP = "fit an axis from a labels file of faces answered yes or no"
REFERENCE_FACES = 500
"""Random faces the change of P(NAME) per unit step is measured over."""


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "teach",
        help=HELP,
        description=HELP + ". Each line of the labels file is a recipe as `tlgan export` reads it, plus \"label\": true or false.",
    )
    add_model_options(parser)
    parser.add_argument("--labels", required=True, metavar="FILE.jsonl", help="the answers: one JSON recipe with \"label\" per line")
    parser.add_argument("--name", required=True, help="the axis's name (lower-case letters, digits, hyphens), as --set NAME= takes it")
    parser.add_argument("--out", metavar="FILE.npz", help="axis file to add the axis to (default: your own axis file for the generator)")
    return parser


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from tlgan_tui.labels import read_labels
    from tlgan_tui.paths import user_axes_path
    from tlgan_tui.teach import check_axis_name, fit_answers
    from tlgan_tui.user_axes import check_free_name, save_axis, taught_axis

    name = check_axis_name(args.name)
    if args.out and not args.out.endswith(".npz"):
        raise UsageError(f"--out {args.out}: an axis file ends in .npz")
    engine = open_engine(args)
    generator = engine.generator
    answers = read_labels(args.labels, generator.id)
    out = Path(args.out) if args.out else user_axes_path(generator.id)
    check_free_name(engine.axes, name, out)
    latents = engine.fitting_latents([answer.recipe for answer in answers])
    rng = np.random.default_rng(0)
    reference = engine.fitting_latents([engine.new_recipe(int(seed)) for seed in rng.integers(0, 2**31, REFERENCE_FACES)])
    taught = fit_answers(latents, [answer.label for answer in answers], reference)
    axis = taught_axis(generator, name, taught, Path(args.labels).name)
    save_axis(out, axis)
    print(f"taught {name}: {taught.summary()} · {axis.info[0].format_value(1.0)} per unit step")
    print(f"wrote {out}{'' if args.out else ' (your own axes: every tlgan command uses it now)'}; try: tlgan render --seed 5 --set {name}=2 -o {name}.png")
    return 0

