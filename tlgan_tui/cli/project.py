"""`tlgan project`: a photo's face as a recipe the editor, render and export take."""

from __future__ import annotations

import argparse
from pathlib import Path

from tlgan_tui.cli.common import UsageError, add_model_options, describe, open_engine, parse_sets, progress_bars

HELP = "find the face in a photo and the latent that draws it (then edit it like any face)"


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("project", help=HELP, description=HELP)
    add_model_options(parser)
    parser.add_argument("photos", nargs="+", metavar="PHOTO", help="photo files (JPEG, PNG, WebP, TIFF, ...); several are projected together")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", metavar="OUT.png", help="for one photo: the projected face (OUT.json gets its recipe)")
    where.add_argument("--out", metavar="DIR", help="for several photos: a folder; each PHOTO gives DIR/PHOTO-NAME.png + .json")
    parser.add_argument("--face", type=int, metavar="N", help="which face when a photo holds several (1 = leftmost)")
    parser.add_argument("--steps", type=int, default=300, metavar="N", help="optimisation steps (default 300)")
    parser.add_argument("--starts", type=int, default=32, metavar="N", help="sampled faces the search starts from, z-space models (default 32)")
    parser.add_argument("--w-plus", action="store_true", help="StyleGAN: a latent per layer in the second half (closer match, less faithful edits)")
    parser.add_argument("--perceptual", choices=("pixels", "d", "vgg"), help="the likeness measure: pixels; d, the StyleGAN model's own discriminator's features; vgg, LPIPS (needs --vgg). Default: vgg with --vgg, else d where the model carries a discriminator, else pixels")
    parser.add_argument("--vgg", metavar="FILE", help="torchvision VGG16 weights: use the LPIPS perceptual loss")
    parser.add_argument("--aligned", metavar="FILE.png", help="also write the aligned crop the projection matched (one photo)")
    parser.add_argument("--already-aligned", action="store_true", help="the photos are face crops framed like the generator's: skip face finding")
    parser.add_argument("--side-by-side", metavar="FILE.png", help="also write photo | projection (| the edit given by --set/--lock) side by side (one photo)")
    parser.add_argument("--set", action="append", default=[], metavar="AXIS=VALUE", help="an edit for --side-by-side (repeatable)")
    parser.add_argument("--lock", action="append", default=[], metavar="AXIS", help="a lock for that edit (repeatable)")
    return parser


def run(args: argparse.Namespace) -> int:
    from tlgan_tui.export import png_bytes, save_face
    from tlgan_tui.fileio import atomic_write_bytes, check_writable_folder
    from tlgan_tui.photo.project import Settings
    from tlgan_tui.photo.workflow import choose_loss, project_photos, side_by_side

    settings = Settings(steps=args.steps, starts=args.starts, w_plus=args.w_plus)
    single = args.output is not None
    if single and len(args.photos) > 1:
        raise UsageError("-o names one output: with several photos give --out DIR")
    if not single and (args.aligned or args.side_by_side):
        raise UsageError("--aligned and --side-by-side go with one photo and -o")
    outputs = [Path(args.output)] if single else [Path(args.out) / f"{Path(photo).stem}.png" for photo in args.photos]
    for path in [*outputs, *(Path(p) for p in (args.aligned, args.side_by_side) if p)]:
        if path.suffix.lower() != ".png":
            raise UsageError(f"{path}: outputs are .png files")
    if not single:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    for path in outputs:
        check_writable_folder(path)
    sets = parse_sets(args.set)
    engine = open_engine(args)
    for name in [*sets, *args.lock]:
        engine.axes.index(name)
    loss, described = choose_loss(engine.generator, args.perceptual, args.vgg)
    print(f"likeness: {described}")
    with progress_bars({"start": "choosing a start", "project": "projecting"}.__getitem__) as progress:
        results = project_photos(engine, args.photos, settings, args.face, args.already_aligned, loss, progress)
    for result, output in zip(results, outputs):
        save_face(engine, result.recipe, output)
        print(f"wrote {output} and its recipe {output.with_suffix('.json')} (from {result.photo}, loss {result.loss:.4f})")
    if args.aligned:
        atomic_write_bytes(args.aligned, png_bytes(results[0].aligned))
        print(f"wrote {args.aligned} (the aligned face)")
    if args.side_by_side:
        recipe = results[0].recipe
        pictures = [results[0].aligned, engine.render(recipe)]
        if sets or args.lock:
            edited = recipe.edited({**recipe.offsets, **sets}, recipe.locks | set(args.lock), engine.axes)
            pictures.append(engine.render(edited))
            print(f"edit: {describe(engine, edited)}")
        atomic_write_bytes(args.side_by_side, png_bytes(side_by_side(pictures)))
        print(f"wrote {args.side_by_side} (photo | projection{' | edit' if len(pictures) == 3 else ''})")
    return 0
