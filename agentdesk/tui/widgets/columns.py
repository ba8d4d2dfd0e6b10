"""Fixed-width columns for line-API rows, measured in terminal cells (not characters)."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size

ELLIPSIS = "…"


def fit(text: str, width: int, align: str = "left") -> str:
    """``text`` cut (with ``…``) or padded to exactly ``width`` cells.

    Wide characters (CJK, emoji) count as two cells, so columns stay aligned.
    """
    if width <= 0:
        return ""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + ELLIPSIS if width > 1 else ELLIPSIS
    pad = " " * (width - length)
    return pad + text if align == "right" else text + pad


def clip(text: str, width: int) -> str:
    """``text`` cut (with ``…``) to at most ``width`` cells, never padded."""
    if width <= 0:
        return ""
    if len(text) <= width and cell_len(text) <= width:
        return text
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1) + ELLIPSIS if width > 1 else ELLIPSIS
