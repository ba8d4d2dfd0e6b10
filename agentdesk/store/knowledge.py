"""Reading knowledge articles: one by id, a search, the articles for a case (SQLite FTS5, ranked by bm25).

The expressions come from :mod:`agentdesk.domain.knowledge`, which makes every word of the
user's or the case's a quoted FTS5 string; the SQL here only binds them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import aiosqlite

from agentdesk.domain.knowledge import case_expression, search_expression
from agentdesk.domain.model import Article, Case, Customer
from agentdesk.store.convert import article_from_row

if TYPE_CHECKING:  # the writer brings SQLAlchemy, which the reader's start-up path never imports
    from agentdesk.store.writer import StoreWriter

_NAMES = ("id", "title", "products", "tags", "body", "extra")
_ARTICLE_COLUMNS = ", ".join(f"article.{name}" for name in _NAMES)

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

_SOME_SQL = f"SELECT {_ARTICLE_COLUMNS} FROM article WHERE article.id IN (SELECT value FROM json_each(?))"


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


async def stored_articles(writer: StoreWriter, ids: list[str]) -> list[Article]:
    """The articles among ``ids`` as the store holds them now, read on the writer's connection (an import
    compares them with what it is about to write)."""
    if not ids:
        return []
    rows = await writer.fetch(_SOME_SQL, (json.dumps(ids),))
    return [article_from_row(dict(zip(_NAMES, row, strict=True))) for row in rows]
