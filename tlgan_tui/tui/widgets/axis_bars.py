"""The axis bars: one row per axis with its name, a bar centred on 0, the offset and beside it
the change in the axis's own units where it has them (AxisInfo.format_change: "+1.50 +5.4
years"; a SeFa axis shows the offset alone), and a lock mark. The selected row is highlighted
and kept in view."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from tlgan_tui.axes import AxisInfo, AxisSet
from tlgan_tui.recipe import Recipe
from tlgan_tui.session import EDIT_RANGE

SPAN = EDIT_RANGE
"""The offset at either end of a bar, as far as the editor moves; larger offsets (from a
recipe) show an arrow at the end."""
LOCK_WIDTH = 6
MIN_BAR = 7
FULL_BAR = 13
"""The bar of a panel as wide as AxisBars.full_width."""
OFFSET_WIDTH = len(f"{-SPAN:+.2f}")
"""Offsets are aligned on this width; one from a recipe may be longer (-100.00)."""
LONGEST_OFFSET = len(f"{-100:+.2f}")


class AxisBars(Widget):
    COMPONENT_CLASSES = {
        "axis-bars--header",
        "axis-bars--selected",
        "axis-bars--fill",
        "axis-bars--track",
        "axis-bars--centre",
        "axis-bars--lock",
    }

    DEFAULT_CSS = """
    AxisBars {
        width: 1fr;
        height: 1fr;
    }
    AxisBars > .axis-bars--header { color: $text-muted; text-style: bold; }
    AxisBars > .axis-bars--selected { background: $accent 35%; text-style: bold; }
    AxisBars > .axis-bars--fill { color: $accent; }
    AxisBars > .axis-bars--track { color: $text-disabled; }
    AxisBars > .axis-bars--centre { color: $text-muted; }
    AxisBars > .axis-bars--lock { color: $warning; text-style: bold reverse; }
    """

    def __init__(self, axes: AxisSet, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.axes = axes
        self.offsets: dict[str, float] = {}
        self.locks: frozenset[str] = frozenset()
        self._effects: dict[str, float] = {}
        """AxisSet.effect of each axis under the locks: what share of its unit the bar shows."""
        self.selected = 0
        self._top = 0
        self._styles: dict[str, Style] = {}
        self._rows: dict[tuple, Strip] = {}
        """Drawn rows by what they show: a key press changes one or two of them."""
        self._base = Style()
        """The widget's own style, as of the render under way."""
        self._drawn: dict[int, tuple] = {}
        """What each row line shows on screen (its key in _rows), to refresh only the rows that change."""

    def _style(self, name: str) -> Style:
        """A component style, looked up once per theme (the lookup is slow, rows are redrawn often)."""
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(f"axis-bars--{name}")
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}
        self._rows = {}
        self._drawn = {}

    def show(self, recipe: Recipe, selected: int, axes: AxisSet | None = None) -> None:
        if axes is not None and axes is not self.axes:
            self.axes = axes
            self._rows = {}
            self._effects = {}
            self._drawn = {}
        self.offsets = dict(recipe.offsets)
        if recipe.locks != self.locks or not self._effects:
            self.locks = recipe.locks
            self._effects = {name: self.axes.effect(name, self.locks) for name in self.axes.names}
        self.selected = selected
        self._refresh_rows()

    def _refresh_rows(self) -> None:
        """Refresh the lines whose rows changed (a key changes one or two): Textual redrawing the
        whole panel cost 15 ms a key on a slow CPU."""
        top = self._top
        self._scroll_to_selected()
        if self._top != top or not self._drawn:
            self._drawn = {}
            self.refresh()
            return
        width = self.size.width
        changed = [y for y, key in self._drawn.items() if self._row_key(self._top + y - 1, width) != key]
        self.refresh(*(Region(0, y, width, 1) for y in changed))

    def _row_key(self, index: int, width: int) -> tuple:
        """What a row shows: its drawing is kept under this."""
        name = self.axes.info[index].name
        return (index, width, self.offsets.get(name, 0.0), index == self.selected, name in self.locks, self._effects.get(name, 1.0))

    def render_lines(self, crop: Region) -> list[Strip]:
        self._scroll_to_selected()  # here, where the size is known for sure
        # Once per render, not per line: working it out walks the DOM (0.4 ms a time on a
        # slow CPU, 18 ms for a panel of rows, on every key).
        self._base = self.rich_style
        lines = super().render_lines(crop)
        for y in range(max(1, crop.y), min(crop.bottom, len(self.axes) - self._top + 1)):
            self._drawn[y] = self._row_key(self._top + y - 1, self.size.width)
        return lines

    def _scroll_to_selected(self) -> None:
        rows = max(1, self.size.height - 1)
        if self.selected < self._top:
            self._top = self.selected
        elif self.selected >= self._top + rows:
            self._top = self.selected - rows + 1
        self._top = max(0, min(self._top, max(0, len(self.axes) - rows)))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._base
        if y == 0:
            return self._header(width, base)
        index = self._top + y - 1
        if index >= len(self.axes):
            return Strip.blank(width, base)
        key = self._row_key(index, width)
        row = self._rows.get(key)
        if row is None:
            if len(self._rows) > 4096:
                self._rows = {}
            row = self._rows[key] = self._row(index, width, base)
        return row

    @property
    def full_width(self) -> int:
        """The width that shows every column with the changes in units and a short bar."""
        name_width, _, value_width, _ = self._columns(0)
        return name_width + FULL_BAR + value_width + LOCK_WIDTH + 3

    def _columns(self, width: int) -> tuple[int, int, int, bool]:
        """Widths of the name, the bar and the value, and whether values show the change in
        units. In a narrow panel those changes go first, then the bar shrinks, so names, offsets
        and lock marks stay readable."""
        name_width = min(16, max((len(name) for name in self.axes.names), default=4))
        for units in (True, False):
            value_width = max([LONGEST_OFFSET] + [len(_value(info, -SPAN, 1.0, units)) for info in self.axes.info])
            bar_width = width - name_width - value_width - LOCK_WIDTH - 3
            if bar_width >= MIN_BAR or not width:
                break
        bar_width = max(3, bar_width)
        return name_width, bar_width - (1 - bar_width % 2), value_width, units  # odd: 0 gets a centre cell

    def _header(self, width: int, base: Style) -> Strip:
        style = base + self._style("header")
        name_width, bar_width, value_width, units = self._columns(width)
        left, right = f"-{SPAN:g}", f"+{SPAN:g}"
        inner = bar_width - len(left) - len(right)
        scale = f"{left}{'0':^{inner}}{right}" if inner >= 1 else f"{'0':^{bar_width}}"
        value = f"{'offset':>{OFFSET_WIDTH}}" + (" change" if units and any(info.change(1.0) is not None for info in self.axes.info) else "")
        text = f"{'axis':<{name_width}} {scale} {value:<{value_width}}"
        return Strip([Segment(text, style)]).crop_extend(0, width, base)

    def _row(self, index: int, width: int, base: Style) -> Strip:
        info = self.axes.info[index]
        value = self.offsets.get(info.name, 0.0)
        row = base + self._style("selected") if index == self.selected else base
        fill = row + self._style("fill")
        track = row + self._style("track")
        centre_style = row + self._style("centre")
        name_width, bar_width, value_width, units = self._columns(width)
        name = info.name if len(info.name) <= name_width else info.name[: name_width - 1] + "…"
        segments = [Segment(f"{name:<{name_width}} ", row)]
        segments += _bar(value, bar_width, fill, track, centre_style)
        shown = _value(info, value, self._effects.get(info.name, 1.0), units)
        segments.append(Segment(f" {shown:<{value_width}} ", row))
        if info.name in self.locks:
            segments.append(Segment(" lock ", row + self._style("lock")))
        else:
            segments.append(Segment(" " * LOCK_WIDTH, row))
        return Strip(segments).crop_extend(0, width, row)


def _value(info: AxisInfo, offset: float, effect: float, units: bool) -> str:
    """The offset, and the attribute's change beside it where its unit tells it."""
    change = info.format_change(offset, effect) if units else None
    return f"{offset:>+{OFFSET_WIDTH}.2f} {change}" if change else f"{offset:>+{OFFSET_WIDTH}.2f}"


def _bar(value: float, width: int, fill: Style, track: Style, centre: Style) -> list[Segment]:
    """A bar `width` cells wide centred on 0, filled from the centre to `value` (of ±SPAN)."""
    half = width // 2
    reach = round(min(abs(value), SPAN) / SPAN * half)
    beyond = abs(value) > SPAN
    cells: list[tuple[str, Style]] = []
    for i in range(width):
        distance = i - half
        if distance == 0:
            cells.append(("┼" if value == 0 else "╋", centre if value == 0 else fill))
        elif (value > 0 and 0 < distance <= reach) or (value < 0 and 0 < -distance <= reach):
            end = abs(distance) == half and beyond
            cells.append(("▶" if end and value > 0 else "◀" if end else "━", fill))
        else:
            cells.append(("─", track))
    segments: list[Segment] = []
    for char, style in cells:  # merge runs of one style into one segment
        if segments and segments[-1].style is style:
            segments[-1] = Segment(segments[-1].text + char, style)
        else:
            segments.append(Segment(char, style))
    return segments
