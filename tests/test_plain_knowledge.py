"""Knowledge articles in the plain session: ``k WORDS`` lists them, ``article N`` reads one, ``cases`` names
the ones that fit the open customer's cases. A real ``agentdesk --plain`` process on a real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdesk.interchange.articles import import_folder
from tests.test_plain_session import HOSTILE_BODY, answer, plain, records, settings  # noqa: F401 - fixture

PROMPTS = ("queue> ", "Petra Lindner> ")


@pytest.fixture
async def store(make_store, tmp_path: Path) -> Path:
    path = await make_store(records())
    folder = tmp_path / "kb"
    (folder / "billing").mkdir(parents=True)
    (folder / "billing" / "fees.md").write_text(
        "---\ntitle: A technician fee for our own fault\ntags: [fee, refund]\n---\n"
        "# Never the customer's to pay\n\nRefund it in full.\n", encoding="utf-8")
    (folder / "hostile.md").write_text(f"---\ntitle: 'Hostile [bold]title[/bold]'\n---\n{HOSTILE_BODY}\n",
                                       encoding="utf-8")
    report = await import_folder(folder, path)
    assert report.refused == []
    return path


def test_k_lists_matching_titles_and_article_shows_one(store: Path, settings: Path) -> None:
    out = plain(store, settings, 'k "fee" NEAR -refund*\narticle 1\nk nothing-like-this\narticle 3\nk\n')
    assert answer(out, 'k "fee" NEAR -refund*', PROMPTS) == ["No article holds these words."]  # NEAR is a word
    out = plain(store, settings, "k fee refund\narticle 1\narticle billing/fees\nk\narticle 2\narticle 9\n")
    assert answer(out, "k fee refund", PROMPTS) == [
        "1 article:", "1. A technician fee for our own fault — Never the customer's to pay",
        "article N shows one in full."]
    assert answer(out, "article 1", PROMPTS) == [
        "Article billing/fees: A technician fee for our own fault", "Filed under: fee, refund", "Text:",
        "# Never the customer's to pay", "", "Refund it in full."]
    assert answer(out, "article billing/fees", PROMPTS) == answer(out, "article 1", PROMPTS)
    everything = answer(out, "k", PROMPTS)
    assert everything[0] == "2 articles:" and everything[2].startswith("2. Hostile [bold]title[/bold] — ␛[2J")
    hostile = answer(out, "article 2", PROMPTS)
    assert hostile[0] == "Article hostile: Hostile [bold]title[/bold]"
    shown = " ".join(hostile[2:])
    assert "[bold]not bold[/bold]" in shown and "‹U+202E›evil" in shown  # literal, made visible
    assert answer(out, "article 9", PROMPTS) == ["no article 9 in the last k list"]


def test_cases_names_the_articles_for_the_open_cases(store: Path, settings: Path) -> None:
    out = plain(store, settings, "open c-1\ncases\narticle 1\n")
    said = answer(out, "cases", PROMPTS)
    assert said[-2:] == ["Articles for the open cases (article N shows one):",
                         "1. A technician fee for our own fault — Never the customer's to pay"]
    assert answer(out, "article 1", PROMPTS)[0] == "Article billing/fees: A technician fee for our own fault"
