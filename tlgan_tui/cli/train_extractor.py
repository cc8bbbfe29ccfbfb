"""`tlgan train-extractor`: the CelebA 40-attribute CNN, a labeler for discover."""

from __future__ import annotations

import argparse

from tlgan_tui.cli.common import UsageError, progress_bars

HELP = "train the CelebA 40-attribute extractor, a labeler for discover"


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("train-extractor", help=HELP, description=HELP)
    parser.add_argument("--celeba", required=True, metavar="DIR", help="CelebA folder: img_align_celeba/, list_attr_celeba.txt, list_eval_partition.txt")
    parser.add_argument("--out", default="celeba-extractor.safetensors", metavar="FILE", help="where to save it (default celeba-extractor.safetensors)")
    parser.add_argument("--epochs", type=int, default=5, help="passes over the training split (default 5)")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N", help="images per step (default 64)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="use only the first N training and N validation images (a quick try)")
    parser.add_argument("--workers", type=int, default=2, metavar="N", help="processes decoding images (default 2; 0 = in the main process)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    return parser


def run(args: argparse.Namespace) -> int:
    from tlgan_tui.extractor import train_extractor
    from tlgan_tui.generators import resolve_device

    if not args.out.endswith(".safetensors"):
        raise UsageError(f"--out {args.out}: the extractor is saved as a .safetensors file")
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    device = resolve_device(args.device)
    with progress_bars(str) as progress:
        report = train_extractor(args.celeba, args.out, args.epochs, args.batch_size, args.limit, device, args.workers, progress=progress)
    print(f"trained on {report.train_images} images, validated on {report.validation_images}: accuracy per attribute (always-the-common-answer in brackets)")
    for name in report.attributes:
        print(f"  {name:<22} {report.accuracy[name]:.3f}  ({report.baseline[name]:.3f})")
    mean = sum(report.accuracy.values()) / len(report.accuracy)
    print(f"mean accuracy {mean:.3f}; wrote {args.out}: use it with `tlgan discover --labelers celeba:{args.out}`")
    return 0
