"""Half-block cells with CellStyle (rich's private Style slots filled directly) against rich's
public API (Style.from_color with cached Colors): the time to build a new face's cells, and the
time to turn them into terminal output, as the editor does for every live preview frame.

    .venv/bin/python benchmarks/cell_styles.py       # about 20 s

92x92-pixel faces of the embedded default model (the editor's preview at 160x50), a new face
each time (few colour pairs repeat). Prints Markdown for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tlgan_tui.engine import Engine  # noqa: E402
from tlgan_tui.terminal import UPPER_HALF, _color, halfblock_lines  # noqa: E402

SIDE = 92
FACES = 40


def public_lines(image: np.ndarray) -> list[list[Segment]]:
    """halfblock_lines built with rich's public API only (Style.from_color)."""
    rgb = image.astype(np.int64)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    keys = (packed[0::2] << 24) | packed[1::2]
    width = keys.shape[1]
    starts = np.ones(keys.shape, dtype=bool)
    starts[:, 1:] = keys[:, 1:] != keys[:, :-1]
    lines = []
    for row, row_starts in zip(keys.tolist(), starts):
        bounds = [*np.flatnonzero(row_starts).tolist(), width]
        styles = [Style.from_color(_color(row[start] >> 24), _color(row[start] & 0xFFFFFF)) for start in bounds[:-1]]
        lines.append([Segment(UPPER_HALF * (end - start), style) for start, end, style in zip(bounds, bounds[1:], styles)])
    return lines


def main() -> None:
    engine = Engine.open(device="cpu")
    faces = [engine.render_preview(engine.new_recipe(seed), SIDE) for seed in range(FACES)]
    console = Console(color_system="truecolor", force_terminal=True, width=200)
    print("| cells made with | build a new face's cells, p50 | turn them into terminal output, p50 |")
    print("|---|---|---|")
    for name, make in (("CellStyle (tlgan_tui/terminal.py)", lambda image: halfblock_lines(image, truecolor=True)), ("rich's public API (Style.from_color)", public_lines)):
        build, output = [], []
        for image in faces:
            start = time.perf_counter()
            lines = make(image)
            built = time.perf_counter()
            "".join(Strip(line).render(console) for line in lines)
            build.append((built - start) * 1000)
            output.append((time.perf_counter() - built) * 1000)
        print(f"| {name} | {statistics.median(build):.1f} ms | {statistics.median(output):.1f} ms |")


if __name__ == "__main__":
    main()
