"""`tlgan convert`: a checkpoint in any layout tlgan reads, rewritten as tlgan's safetensors."""

from __future__ import annotations

import argparse

from tlgan_tui.cli.common import UsageError, say_notes

HELP = "write a pg-GAN checkpoint or a StyleGAN snapshot (any layout tlgan reads) as tlgan safetensors"


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("convert", help=HELP, description=HELP)
    parser.add_argument("input", metavar="IN", help="a pg-GAN checkpoint (genforce/InterFaceGAN, genforce/SeFa, pytorch_GAN_zoo, tlgan) or a StyleGAN one (NVIDIA snapshot .pkl, tlgan)")
    parser.add_argument("output", metavar="OUT.safetensors", help="the file to write")
    return parser


def run(args: argparse.Namespace) -> int:
    from tlgan_tui.adoptions import adoptions, unsaid_notes
    from tlgan_tui.errors import AdoptionError
    from tlgan_tui.generators.pggan import PGGANCheckpoint
    from tlgan_tui.generators.pggan_formats import convert_checkpoint
    from tlgan_tui.generators.stylegan.layouts import convert_stylegan, is_stylegan_file

    if not args.output.endswith(".safetensors"):
        raise UsageError(f"{args.output}: the output must be a .safetensors file")
    kept = ""
    if is_stylegan_file(args.input):
        checkpoint, discriminator = convert_stylegan(args.input, args.output)
        kept = f", {discriminator}"
    else:
        checkpoint = convert_checkpoint(args.input, args.output)
    size = checkpoint.resolution
    print(f"wrote {args.output} ({checkpoint.generator_id}, {size}x{size}, from {checkpoint.source}{kept})")
    try:
        adopted = adoptions().get(checkpoint.fingerprint) if isinstance(checkpoint, PGGANCheckpoint) else None
    except AdoptionError as error:  # the file is written: the conversion went well, the note cannot be given
        say_notes([str(error)])
        return 0
    say_notes(unsaid_notes())
    if adopted is not None:
        print(f"the weights are adopted as {adopted.model_id}: {args.output} opens as {adopted.model_id} too (same weights, same fingerprint)")
    return 0
