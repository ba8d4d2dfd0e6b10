"""Reading knowledge articles: one by id, a search, the articles for a case (SQLite FTS5, ranked by bm25).

The expressions come from :mod:`agentdesk.domain.knowledge`, which makes every word of the
user's or the case's a quoted FTS5 string; the SQL here only binds them.
"""

from __future__ import annotations

import aiosqlite

from agentdesk.domain.knowledge import case_expression, search_expression
from agentdesk.domain.model import Article, Case, Customer
from agentdesk.store.convert import article_from_row

_ARTICLE_COLUMNS = "article.id, article.title, article.products, article.tags, article.body, article.extra"

# A match in the title weighs most, then tags and products, then the body.
_RANKED_MATCHES_SQL = f"""
SELECT {_ARTICLE_COLUMNS}
FROM article_search
JOIN article ON article.rowid = article_search.rowid
WHERE article_search MATCH ?
ORDER BY bm25(article_search, 10.0, 5.0, 5.0, 1.0), article.id
LIMIT ?
"""

_ALL_BY_TITLE_SQL = f"SELECT {_ARTICLE_COLUMNS} FROM article ORDER BY article.title, article.id LIMIT ?"

_ONE_SQL = f"SELECT {_ARTICLE_COLUMNS} FROM article WHERE article.id = ?"


async def article(db: aiosqlite.Connection, article_id: str) -> Article | None:
    async with db.execute(_ONE_SQL, (article_id,)) as cursor:
        row = await cursor.fetchone()
    return article_from_row(row) if row is not None else None


async def search(db: aiosqlite.Connection, query: str, limit: int) -> list[Article]:
    """The articles holding every word of ``query`` (or words starting so), best first; all of them by
    title when ``query`` has no words."""
    expression = search_expression(query)
    if expression is None:
        return await _articles(db, _ALL_BY_TITLE_SQL, (limit,))
    return await _articles(db, _RANKED_MATCHES_SQL, (expression, limit))


async def for_case(db: aiosqlite.Connection, case: Case, customer: Customer | None, limit: int) -> list[Article]:
    """The articles that fit ``case`` (its product, its subject words), best first."""
    expression = case_expression(case, customer)
    if expression is None:
        return []
    return await _articles(db, _RANKED_MATCHES_SQL, (expression, limit))


async def _articles(db: aiosqlite.Connection, sql: str, params: tuple[object, ...]) -> list[Article]:
    async with db.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    return [article_from_row(row) for row in rows]
