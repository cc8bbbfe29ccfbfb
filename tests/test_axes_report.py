"""axes/REPORT.md, the verification of the default model's shipped axes, covers every named axis
the model ships: a row in its tables and a strip of faces moved from -3 to +3."""

import re

from tlgan_tui.axes import UNSUPERVISED, AxisSet
from tlgan_tui.generators.dcgan import DEFAULT_ID
from tlgan_tui.shipped import SOURCE_AXES


def test_every_named_axis_of_the_default_model_has_a_row_and_a_strip_in_the_report():
    axes = AxisSet.load(SOURCE_AXES / f"{DEFAULT_ID}.npz")
    report = (SOURCE_AXES / "REPORT.md").read_text()
    named = [axis.name for axis in axes.info if axis.method not in UNSUPERVISED]
    assert len(named) >= 13
    for name in named:
        assert re.search(rf"^\| {re.escape(name)} \|", report, re.MULTILINE), f"no row of {name} in REPORT.md"
        strips = re.findall(rf"!\[{re.escape(name)}\]\(([^)]+)\)", report)
        assert strips and all((SOURCE_AXES / strip).is_file() for strip in strips), f"no strip of {name} in REPORT.md"
    assert "FAIL" not in report
