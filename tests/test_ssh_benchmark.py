"""The helpers of benchmarks/ssh.py (the benchmark itself needs root, sshd and minutes: not CI)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

spec = importlib.util.spec_from_file_location("ssh_benchmark", Path(__file__).resolve().parent.parent / "benchmarks" / "ssh.py")
ssh = importlib.util.module_from_spec(spec)
sys.modules["ssh_benchmark"] = ssh  # its dataclasses look their module up
spec.loader.exec_module(ssh)

RED, BLUE = "38;2;255;0;0;48;2;0;0;0", "38;2;0;0;255;48;2;0;0;0"


def pane(*rows: str) -> list:
    return [ssh.pane_cells(row) for row in rows]


def test_a_pane_line_becomes_cells_with_the_colours_in_force():
    text, styles = ssh.pane_cells(f"ab\x1b[{RED}m▀▀\x1b[{BLUE}m▀\x1b[0m c")
    assert text == "ab▀▀▀ c"
    assert styles == ["", "", RED, RED, BLUE, "0", "0"]


def test_the_face_digest_follows_the_face_and_ignores_the_bars_beside_it():
    face = f"\x1b[{RED}m" + "▀" * 60
    lines = pane(*[f"bar 1 {face}"] * 3)
    assert ssh.face_shown(lines)
    columns = (6, 66)
    before = ssh.face_digest(lines, columns)
    assert ssh.face_digest(pane(*[f"bar 2 {face}"] * 3), columns) == before  # a bar moved: same face
    recoloured = pane(f"bar 1 {face}", f"bar 1 \x1b[{BLUE}m" + "▀" * 60, f"bar 1 {face}")
    assert ssh.face_digest(recoloured, columns) != before  # one row of the face changed colour


def test_no_face_yet_is_no_face():
    assert not ssh.face_shown(pane("loading…", ""))


def test_the_face_columns_are_where_the_editor_lays_the_face_out():
    left, right = ssh.face_columns((160, 50))
    assert right - left == 92 and 0 < left and right < 160  # 160x50: a 92x92 face beside the bars


def test_the_link_limit_keeps_a_burst_that_holds_a_whole_packet():
    command = ssh.tbf_command("lo", 4)
    assert command[:6] == ["tc", "qdisc", "replace", "dev", "lo", "root"]
    assert command[command.index("rate") + 1] == "4mbit" and command[command.index("burst") + 1] == "64kb"


def test_percentiles_of_a_few_presses():
    assert ssh.percentile([0.3, 0.1, 0.2], 50) == 0.2
    assert ssh.percentile([0.1, 0.2, 0.3, 0.4, 5.0], 95) == 5.0
