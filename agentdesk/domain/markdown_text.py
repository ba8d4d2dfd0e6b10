"""A knowledge article's Markdown as the plain text of a reply: what a customer reads in an e-mail or an SMS.

Paragraphs become single lines (the source's line wrapping is not the reader's), list items stay one
line each with their ``1.`` or ``-``, headings become plain lines, and a heading that only repeats
the article's title is left out. Emphasis marks go; a link keeps its words and its address.
Parsing is markdown-it-py's (CommonMark), so what counts as a list or a paragraph is what any
Markdown reader says, not a guess made here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark")
_BLOCK_ENDS = frozenset({"paragraph_close", "heading_close", "bullet_list_close", "ordered_list_close",
                         "fence", "code_block", "html_block", "hr"})


def inline_text(token: Token) -> str:
    """The words of an inline token: soft line breaks as spaces, hard ones kept, marks left out."""
    parts: list[str] = []
    href = ""
    link_start = 0
    for child in token.children or ():
        kind = child.type
        if kind in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind == "image":
            parts.append(child.content)
        elif kind == "link_open":
            href, link_start = str(child.attrGet("href") or ""), len(parts)
        elif kind == "link_close":
            if href and href not in "".join(parts[link_start:]):
                parts.append(f" ({href})")
            href = ""
    return "".join(parts)


@dataclass
class _Writer:
    lines: list[str] = field(default_factory=list)
    lists: list[list[int | str]] = field(default_factory=list)
    """Open lists, innermost last: ``[next number, bullet, indent]`` (number 0 for a bullet list); a list
    inside an item lines up under the item's text."""
    marker: str = ""
    """The marker of a list item whose first line is still to come."""
    indent: str = ""
    blank: bool = False

    def write(self, text: str) -> None:
        if self.blank and self.lines:
            self.lines.append("")
        self.blank = False
        first, *rest = text.split("\n")
        lead = self.indent + self.marker
        self.lines.append(lead + first)
        continuation = " " * len(lead)
        self.lines.extend(continuation + line for line in rest)
        if self.marker:
            self.indent, self.marker = continuation, ""

    def open_list(self, number: int, bullet: str) -> None:
        self.lists.append([number, bullet, self.indent if self.lists else ""])

    def open_item(self, token: Token) -> None:
        number, bullet, indent = self.lists[-1]
        self.indent = str(indent)
        if number:
            self.marker = f"{number}{token.markup or '.'} "
            self.lists[-1][0] = int(number) + 1
        else:
            self.marker = f"{bullet or '-'} "


def plain_text(markdown: str, title: str = "") -> str:
    """``markdown`` as plain lines; a heading reading ``title`` (any case) is dropped."""
    writer = _Writer()
    tokens = _PARSER.parse(markdown)
    for index, token in enumerate(tokens):
        kind = token.type
        if kind == "bullet_list_open":
            writer.open_list(0, token.markup)
        elif kind == "ordered_list_open":
            writer.open_list(int(token.attrGet("start") or 1), "")
        elif kind in ("bullet_list_close", "ordered_list_close"):
            writer.lists.pop()
            if not writer.lists:
                writer.indent = ""
        elif kind == "list_item_open":
            writer.open_item(token)
        elif kind == "inline":
            heading = tokens[index - 1].type == "heading_open"
            text = inline_text(token).strip()
            if not (heading and title and text.casefold() == title.strip().casefold()):
                writer.write(text)
        elif kind in ("fence", "code_block", "html_block"):
            writer.write(token.content.rstrip("\n"))
        if kind in _BLOCK_ENDS and not writer.lists:
            writer.blank = True
    return "\n".join(writer.lines)
