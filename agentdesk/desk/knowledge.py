"""Knowledge articles as the front ends ask for them: the ones at hand for a customer, a search, one by id.

The store's queries (:meth:`StoreReader.search_articles`, :meth:`StoreReader.articles_for_case`)
do the matching; this module decides what "at hand" means for a customer with several open cases.
"""

from __future__ import annotations

from agentdesk.domain.model import Article
from agentdesk.store.reader import StoreReader

AT_HAND = 5
"""Articles shown beside a customer at most."""


async def articles_at_hand(reader: StoreReader, customer_id: str, limit: int = AT_HAND) -> list[Article]:
    """The articles that fit the customer's open cases: the newest case's best first, each article once."""
    customer = await reader.customer(customer_id)
    cases = await reader.open_cases(customer_id)
    found: dict[str, Article] = {}
    for case in reversed(cases):  # the newest case is the one most likely being worked on
        for article in await reader.articles_for_case(case, customer, limit):
            found.setdefault(article.id, article)
    return list(found.values())[:limit]
