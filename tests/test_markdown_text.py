"""A knowledge article's Markdown as the plain text a reply carries."""

from __future__ import annotations

from agentdesk.domain.markdown_text import plain_text


def test_the_title_heading_goes_paragraphs_join_and_list_items_stay_lines() -> None:
    source = ("# Camper mirror\n\nA loose mirror is a\nbreakdown, *day or night*.\n\n"
              "1. Ask where the vehicle\n   stands.\n2. Book the repair.\n\n## After the call\n\nWrite a note.\n")
    assert plain_text(source, "camper MIRROR") == (
        "A loose mirror is a breakdown, day or night.\n\n"
        "1. Ask where the vehicle stands.\n2. Book the repair.\n\n"
        "After the call\n\nWrite a note.")


def test_bullets_nesting_links_hard_breaks_and_code_are_kept_readable() -> None:
    source = ("- one\n  wrapped\n- two\n  1. nested\n     wrapped\n\n"
              "See [the status page](https://status.example) or https://help.example.  \nThanks.\n\n"
              "```\nAPN  internet\n```\n")
    assert plain_text(source) == (
        "- one wrapped\n- two\n  1. nested wrapped\n\n"
        "See the status page (https://status.example) or https://help.example.\nThanks.\n\n"
        "APN  internet")
