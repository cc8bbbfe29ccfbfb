"""Write the SeFa axes of the embedded default generator to axes/ (run once; the file is committed).

Named attribute axes found by `tlgan discover` are merged into the same file later.
"""

from __future__ import annotations

from tlgan_tui.axes import AxisSet
from tlgan_tui.generators import load_generator
from tlgan_tui.sefa import sefa_axes
from tlgan_tui.shipped import SOURCE_AXES


def main() -> None:
    generator = load_generator("default", device="cpu")
    path = SOURCE_AXES / f"{generator.id}.npz"
    axes = sefa_axes(generator, count=10)
    if path.is_file():
        axes = AxisSet.load(path).merged(axes)
    axes.save(path)
    print(f"wrote {len(axes)} axes to {path}")


if __name__ == "__main__":
    main()
