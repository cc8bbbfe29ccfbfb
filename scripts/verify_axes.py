"""Verify named axes on new faces: move them from -3 to +3 and re-label them (writes axes/REPORT.md).

For every labelled axis of the axis file: the response curve of its own attribute (monotonic?
change per unit step), the side effects on the other attributes, both free and with the
other labelled axes locked, and a strip image (faces in rows, steps -3..+3 in columns). Then
the checks the shipped default axes must pass. Needs the [discover] extra.

    .venv/bin/python scripts/verify_axes.py            # the shipped axes of the default model
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tlgan_tui.axes import UNSUPERVISED
from tlgan_tui.engine import Engine
from tlgan_tui.fileio import atomic_write_bytes, atomic_write_text
from tlgan_tui.labelers import DEFAULT, load_labelers
from tlgan_tui.latent import sample_latents
from tlgan_tui.generators.dcgan import DEFAULT_ID
from tlgan_tui.shipped import SOURCE_AXES

STEPS = np.arange(-3.0, 3.5, 1.0)
STRIP_FACES = 6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--axes", default=None, help="axis file (default: the shipped one of the default model, without your own taught axes)")
    parser.add_argument("--faces", type=int, default=200, help="new random faces to move (default 200)")
    parser.add_argument("--seed", type=int, default=20261127, help="seed of the new faces (none of them was used to fit)")
    parser.add_argument("--report", default=str(SOURCE_AXES / "REPORT.md"), help="markdown report to write")
    parser.add_argument("--strips", default=str(SOURCE_AXES / "strips"), help="folder for the strip images")
    args = parser.parse_args()

    start = time.perf_counter()
    # The shipped file itself: the engine's own set would add the taught axes of whoever runs this.
    engine = Engine.open("default", device="cpu", axes=args.axes or SOURCE_AXES / f"{DEFAULT_ID}.npz")
    labelers = load_labelers(list(DEFAULT))
    attributes = [attribute.name for labeler in labelers for attribute in labeler.attributes]
    named = [name for name in engine.axes.names if name in attributes]
    z0 = sample_latents(args.faces, args.seed, engine.generator.latent_dim)

    def respond(name: str, locks: frozenset[str]) -> dict[str, np.ndarray]:
        """Every attribute of every face at every step: {attribute: (steps, faces)}."""
        latents = np.stack([engine.axes.apply(z, {name: step}, locks) for step in STEPS for z in z0])
        images = engine.generator.synthesize(latents)
        scores = {k: v for labeler in labelers for k, v in labeler(images).items()}
        return {k: v.reshape(len(STEPS), len(z0)) for k, v in scores.items()}

    strips = Path(args.strips)
    strips.mkdir(parents=True, exist_ok=True)
    free, locked = {}, {}
    for name in named:
        free[name] = respond(name, frozenset())
        locked[name] = respond(name, frozenset(named) - {name})
        save_strip(engine, name, z0[:STRIP_FACES], frozenset(), strips / f"{name}.png")
        save_strip(engine, name, z0[:STRIP_FACES], frozenset(named) - {name}, strips / f"{name}-locked.png")
    age_gender_locked = respond("age", frozenset({"gender"})) if {"age", "gender"} <= set(named) else None
    # Taught axes have no predictor to re-label them with: their strips are what a person checks.
    taught = [name for name in engine.axes.names if engine.axes.axis(name).method == "taught"]
    for name in taught:
        save_strip(engine, name, z0[:STRIP_FACES], frozenset(), strips / f"{name}.png")

    lines = report(engine, named, attributes, free, locked, age_gender_locked, strips, Path(args.report))
    lines += taught_report(engine, taught, strips, Path(args.report))
    lines += coverage(engine, named, taught, strips)
    lines.append(f"Made by `scripts/verify_axes.py` in {time.perf_counter() - start:.0f} s on {args.faces} new faces (seed {args.seed}).")
    atomic_write_text(args.report, "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if any(line.startswith("- FAIL") for line in lines) else 0


def save_strip(engine: Engine, name: str, z0: np.ndarray, locks: frozenset[str], path: Path) -> None:
    latents = np.stack([engine.axes.apply(z, {name: step}, locks) for z in z0 for step in STEPS])
    images = engine.generator.synthesize(latents)
    size = images.shape[1]
    grid = images.reshape(len(z0), len(STEPS), size, size, 3).transpose(0, 2, 1, 3, 4).reshape(len(z0) * size, len(STEPS) * size, 3)
    # A 256-colour palette keeps each strip near 100 KB with no visible loss at this size.
    buffer = io.BytesIO()
    Image.fromarray(grid).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG).save(buffer, "PNG", optimize=True)
    atomic_write_bytes(path, buffer.getvalue())


def taught_report(engine: Engine, taught: list[str], strips: Path, out: Path) -> list[str]:
    """The taught axes: what their answers were, how well the fit holds, and their strips."""
    if not taught:
        return []
    lines = [
        "## Taught axes",
        "",
        "Taught by example (`tlgan teach`) from answers given by looking at faces; the answers are in",
        "`axes/taught/NAME.jsonl`. Accuracy is cross-validated on the answers with yes and no counted",
        "alike (guessing: 50 %); stability is the mean cosine of directions fitted on two halves of them;",
        "the change per unit step is the fitted model's P(NAME). No predictor checks these axes: their",
        "strips do (rows are faces, columns the steps -3 … +3), and what they show is in README.md.",
        "",
        "| axis | answers | accuracy | stability | per unit step | strip |",
        "|---|---|---|---|---|---|",
    ]
    for name in taught:
        axis = engine.axes.axis(name)
        strip = strips / f"{name}.png"
        shown = strip.relative_to(out.parent) if strip.is_relative_to(out.parent) else strip
        lines.append(
            f"| {name} | {axis.description.removeprefix('taught by example from ')} | {axis.quality.get('accuracy', 0):.2f} "
            f"| {axis.quality.get('stability', 0):.2f} | {axis.format_value(1.0)} | ![{name}]({shown}) |"
        )
    return lines + [""]


def coverage(engine: Engine, named: list[str], taught: list[str], strips: Path) -> list[str]:
    """Every axis a person named (all but SeFa's) has its rows and strip above, or a FAIL."""
    missing = [
        axis.name for axis in engine.axes.info
        if axis.method not in UNSUPERVISED and (axis.name not in named + taught or not (strips / f"{axis.name}.png").is_file())
    ]
    lines = ["## Coverage", ""]
    if missing:
        lines.append(f"- FAIL: named axes without their rows or strip above: {', '.join(missing)}")
    else:
        lines.append(f"- PASS: every named axis of the file ({len(named) + len(taught)}) has its rows and strip above; only SeFa's numbered axes are left out")
    return lines + [""]


def curve(values: np.ndarray) -> tuple[np.ndarray, bool, float]:
    """Mean per step, whether it rises at every step, and the least-squares change per unit."""
    means = values.mean(axis=1)
    return means, bool(np.all(np.diff(means) > 0)), float(np.polyfit(STEPS, means, 1)[0])


def fmt(value: float) -> str:
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


Responses = dict[str, dict[str, np.ndarray]]
"""{moved axis: {attribute: (steps, faces)}}"""


def report(
    engine: Engine,
    named: list[str],
    attributes: list[str],
    free: Responses,
    locked: Responses,
    age_gender_locked: dict[str, np.ndarray] | None,
    strips: Path,
    out: Path,
) -> list[str]:
    axes = engine.axes

    def rel(p: Path) -> Path:
        return p.relative_to(out.parent) if p.is_relative_to(out.parent) else p

    path = Path(axes.path).resolve()
    shown = path.relative_to(out.parent.parent.resolve()) if path.is_relative_to(out.parent.parent.resolve()) else path.name
    lines = [
        f"# Verification of the named axes of `{axes.generator_id}`",
        "",
        f"Axis file: `{shown}` (axis fingerprints: {', '.join(f'{n} `{axes.fingerprint(n)}`' for n in named)}). Each axis moved new random faces",
        "(none of them used by the fit) from -3 to +3; the faces were re-labelled by the same predictors",
        f"the axes were fitted to ({', '.join(f'`{name}`' for name in DEFAULT)}). \"Locked\" = every other",
        "named axis locked while this one moves.",
        "",
        "## Fit quality (from the axis file)",
        "",
        "| axis | method | per unit step | quality |",
        "|---|---|---|---|",
    ]
    for name in named:
        axis = axes.axis(name)
        quality = ", ".join(f"{k} {v:.2f}" for k, v in axis.quality.items())
        lines.append(f"| {name} | {axis.method} | {axis.format_value(1.0)} | {quality} |")
    lines += ["", "## Response curves (mean of the axis's own attribute at each step)", ""]
    lines += ["| axis | unit | " + " | ".join(f"{s:+.0f}" for s in STEPS) + " | monotonic | per unit | locked: monotonic | locked: per unit |"]
    lines += ["|---|---|" + "---|" * len(STEPS) + "---|---|---|---|"]
    for name in named:
        means, rising, slope = curve(free[name][name])
        _, rising_locked, slope_locked = curve(locked[name][name])
        lines.append(
            f"| {name} | {axes.axis(name).unit} | " + " | ".join(fmt(m) for m in means)
            + f" | {'yes' if rising else 'no'} | {fmt(slope)} | {'yes' if rising_locked else 'no'} | {fmt(slope_locked)} |"
        )
    lines += ["", "## Side effects: change of each attribute's mean from -3 to +3", ""]
    lines += ["Free / locked. The diagonal is the axis's own attribute.", ""]
    lines += ["| moved axis | " + " | ".join(attributes) + " |", "|---|" + "---|" * len(attributes)]
    for name in named:
        cells = []
        for attribute in attributes:
            a = free[name][attribute][-1].mean() - free[name][attribute][0].mean()
            b = locked[name][attribute][-1].mean() - locked[name][attribute][0].mean()
            cell = f"{a:+.2f} / {b:+.2f}"
            cells.append(f"**{cell}**" if attribute == name else cell)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "## Strips", "", "Rows are faces, columns the steps -3, -2, -1, 0, +1, +2, +3.", ""]
    for name in named:
        lines.append(f"- {name}: free ![{name}]({rel(strips / f'{name}.png')}), locked ![{name} locked]({rel(strips / f'{name}-locked.png')})")
    lines += ["", "## Checks", ""]
    zero = list(STEPS).index(0)
    checks = []
    if "gender" in named:
        share = float(np.mean(free["gender"]["gender"][-1] > free["gender"]["gender"][zero]))
        checks.append((share >= 0.8, f"gender +3 raises P(male) for {share:.0%} of the faces (needed: at least 80 %)"))
    if "smile" in named:
        before, after = free["smile"]["smile"][zero].mean(), free["smile"]["smile"][-1].mean()
        share = float(np.mean(free["smile"]["smile"][-1] > free["smile"]["smile"][zero]))
        checks.append((after > before, f"smile +3 raises mean P(happy) from {before:.2f} to {after:.2f} ({share:.0%} of the faces)"))
    if "age" in named:
        before, after = free["age"]["age"][zero].mean(), free["age"]["age"][-1].mean()
        share = float(np.mean(free["age"]["age"][-1] > free["age"]["age"][zero]))
        checks.append((after > before, f"age +3 raises the mean predicted age from {before:.1f} to {after:.1f} years ({share:.0%} of the faces)"))
    if age_gender_locked is not None:
        p_free = free["age"]["gender"]
        p_locked = age_gender_locked["gender"]
        drift_free = abs(p_free[-1].mean() - p_free[0].mean())
        drift_locked = abs(p_locked[-1].mean() - p_locked[0].mean())
        per_face_free = np.abs(p_free[-1] - p_free[0]).mean()
        per_face_locked = np.abs(p_locked[-1] - p_locked[0]).mean()
        age_moved = age_gender_locked["age"][-1].mean() - age_gender_locked["age"][0].mean()
        checks.append((
            drift_locked < drift_free / 3,
            f"moving age -3 -> +3 changes mean P(male) by {drift_free:+.3f} free and {drift_locked:+.3f} with gender locked "
            f"(needed: under a third); per face |change| {per_face_free:.3f} free, {per_face_locked:.3f} locked; "
            f"age still moves {age_moved:+.1f} years with the lock",
        ))
    lines += [f"- {'PASS' if ok else 'FAIL'}: {text}" for ok, text in checks]
    lines.append("")
    return lines


if __name__ == "__main__":
    sys.exit(main())
