"""A number drawn five rows tall in solid blocks, readable from a step back.

Used for the locker number on the door-open screen: the one thing a hurried or
short-sighted person must not misread. Textual's ``Digits`` is three rows of thin box
lines; this is heavier on purpose.
"""

from __future__ import annotations

from textual.widgets import Static

_GLYPHS = {
    "0": ("██████", "██  ██", "██  ██", "██  ██", "██████"),
    "1": ("  ██  ", "████  ", "  ██  ", "  ██  ", "██████"),
    "2": ("██████", "    ██", "██████", "██    ", "██████"),
    "3": ("██████", "    ██", " █████", "    ██", "██████"),
    "4": ("██  ██", "██  ██", "██████", "    ██", "    ██"),
    "5": ("██████", "██    ", "██████", "    ██", "██████"),
    "6": ("██████", "██    ", "██████", "██  ██", "██████"),
    "7": ("██████", "    ██", "   ██ ", "  ██  ", "  ██  "),
    "8": ("██████", "██  ██", "██████", "██  ██", "██████"),
    "9": ("██████", "██  ██", "██████", "    ██", "██████"),
}
ROWS = 5


def draw(number: int | str) -> str:
    """The block drawing of ``number`` (digits only), rows joined by newlines."""
    digits = str(number)
    if not digits.isdigit():
        raise ValueError(f"BigNumber draws digits only, not {digits!r}")
    return "\n".join("  ".join(_GLYPHS[d][row] for d in digits) for row in range(ROWS))


class BigNumber(Static):
    """A non-negative integer, five rows tall."""

    DEFAULT_CSS = """
    BigNumber {
        width: auto;
        height: 5;
        text-style: bold;
    }
    """

    def __init__(self, number: int, *, classes: str | None = None) -> None:
        super().__init__(draw(number), classes=classes, markup=False)
        self.number = number
