"""Which knowledge articles fit a case, and what the user's search words ask the index for.

Pure: the store runs the SQLite FTS5 expressions made here. What a user types, and what a
customer's case says, are words, never FTS5 syntax: every word goes to the index as a quoted
string (``NEAR``, ``-``, ``*``, ``:`` and quotes mean nothing there), so no input can make a
search fail or ask for something the user did not type.

The product of a case: the case's ``product`` (an interchange extension field, kept in
``extra``), else its customer's; when neither names one, the case's subject words alone
choose the articles.
"""

from __future__ import annotations

import re

from agentdesk.domain.model import Article, Case, Customer
from agentdesk.domain.text import one_line

PRODUCT_FIELD = "product"
"""The extension field of a case or customer that names the product it is about."""

_WORD = re.compile(r"[^\W_]+")
"""Letters and digits of any script: what FTS5's ``unicode61`` tokenizer keeps as a word."""

_MIN_SUBJECT_WORD = 3
_COMMON_WORDS = frozenset({
    "and", "the", "for", "with", "from", "not", "but", "near", "our", "your", "was", "are", "has", "have",
    "can", "cannot", "after", "before", "since", "into", "onto", "out", "off", "per", "via", "again", "still",
})
"""Subject words too common to say what a case is about (a subject is matched with OR, so these would
bring in every article that says "the")."""


def words(text: str) -> list[str]:
    """The words of ``text`` in order, as the index splits them; punctuation and FTS5 operators drop out."""
    return _WORD.findall(text)


def fts_string(text: str) -> str:
    """``text`` as one FTS5 string: inside double quotes only a doubled quote is special."""
    return '"' + text.replace('"', '""') + '"'


def search_expression(query: str) -> str | None:
    """The FTS5 expression for a search the user typed: every word must appear, each also as the start
    of a longer word (``mirr`` finds ``mirror``, so results follow the typing). None: no words at all."""
    found = words(query)
    if not found:
        return None
    return " ".join(fts_string(word) + "*" for word in found)


def case_product(case: Case, customer: Customer | None) -> str | None:
    """The product a case is about: the case's own ``product`` field, else its customer's; None when neither."""
    for extra in (case.extra, customer.extra if customer is not None else {}):
        named = extra.get(PRODUCT_FIELD)
        if isinstance(named, str) and words(named):
            return named
    return None


def subject_words(subject: str) -> list[str]:
    """The words of a case's subject that say what it is about (short and common words left out), once each."""
    kept = [word for word in words(subject)
            if len(word) >= _MIN_SUBJECT_WORD and word.casefold() not in _COMMON_WORDS]
    return list(dict.fromkeys(word.casefold() for word in kept))


def case_expression(case: Case, customer: Customer | None) -> str | None:
    """The FTS5 expression for the articles that fit a case: those listing its product, or sharing words
    with its subject. Any one of them brings an article in; bm25 ranks the ones matching more (and rarer)
    terms first. None when the case names no product and its subject has no telling words."""
    terms: list[str] = []
    product = case_product(case, customer)
    if product is not None:
        terms.append(f"products : {fts_string(' '.join(words(product)))}")
    terms.extend(fts_string(word) for word in subject_words(case.subject))
    return " OR ".join(terms) if terms else None


_MARKDOWN_LEAD = " #>*-"
"""What starts a Markdown heading, quote or list item: left off a summary line."""


def article_summary(article: Article) -> str:
    """The first line of the article's text that says something (a heading's words count) other than the
    title again, as written."""
    title = article.title.strip().casefold()
    lines = (line.strip(_MARKDOWN_LEAD) for line in article.body.splitlines())
    return next((line for line in lines if line and line.casefold() != title), "")


def article_line(article: Article, width: int | None = None) -> str:
    """An article in one line: its title, then the start of its text (``width`` characters at most)."""
    summary = article_summary(article)
    return one_line(f"{article.title} — {summary}" if summary else article.title, width)
