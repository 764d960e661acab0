"""Does a screen fit its terminal? Every widget showing lies whole inside the part of its
container that shows, and every piece of text has the rows and columns it needs."""

from __future__ import annotations

from textual.containers import ScrollableContainer
from textual.screen import Screen
from textual.scrollbar import ScrollBar
from textual.widget import Widget


def _name(widget: Widget) -> str:
    classes = ".".join(sorted(widget.classes))
    return f"{type(widget).__name__}{'.' + classes if classes else ''}"


def clipped(screen: Screen) -> list[str]:
    """What does not fit on ``screen`` as laid out now: one line per widget, empty if all fits.
    What a scrolling container holds may be scrolled to and is not counted."""
    problems = []
    for widget, geometry in screen._compositor.full_map.items():
        if widget is screen or not widget.display or not geometry.region.area or isinstance(widget, ScrollBar):
            continue
        region, clip = geometry.region, geometry.clip
        scrolled = any(isinstance(a, ScrollableContainer) for a in widget.ancestors)
        if region.intersection(clip) != region and not scrolled:
            problems.append(f"{_name(widget)} at {tuple(region)} is cut by {tuple(clip)}")
            continue
        if widget.children or isinstance(widget, ScrollableContainer):
            continue   # a container's children are checked themselves; a scroller scrolls
        content = widget.content_region
        needed = widget.get_content_height(widget.container_size, screen.size, content.width)
        if needed > content.height:
            problems.append(f"{_name(widget)} needs {needed} rows, has {content.height}")
    return problems
