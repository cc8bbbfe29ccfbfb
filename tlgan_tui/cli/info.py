"""`tlgan info`: the generator, resolution, device and axis file in use."""

from __future__ import annotations

import argparse

from tlgan_tui.cli.common import add_model_options, identity_line, open_engine

HELP = "show the generator, resolution, device and axis file in use"


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("info", help=HELP, description=HELP)
    add_model_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    import torch

    from tlgan_tui.safe_text import shown

    engine = open_engine(args)
    generator = engine.generator
    device = str(generator.device)
    if generator.device.type == "cuda":
        device += f" ({torch.cuda.get_device_name(generator.device)})"
    rows = {
        "generator": f"{generator.id}: {generator.description}",
        **({"model id": identity_line(generator.identity)} if generator.identity is not None else {}),
        "weights": generator.weights_path,
        "resolution": f"{generator.resolution}x{generator.resolution}",
        "latent size": f"{generator.latent_dim}, edited in "
        + ("z, on the sphere" if generator.edit_space == "z" else f"W ({generator.latent_layers} layers in W+)"),
        "device": f"{device}, torch {torch.__version__}",
        "axes": f"{engine.axes.path or 'SeFa, computed now'} ({len(engine.axes)} axes: {shown(', '.join(engine.axes.names), 600)})",
    }
    width = max(map(len, rows))
    for key, value in rows.items():
        print(f"{key:<{width}}  {value}")
    return 0
