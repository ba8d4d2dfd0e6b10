"""Knowledge articles, and a full-text index over them that keeps itself up to date.

``article_search`` is an SQLite FTS5 table over the article's title, tags, products and
body, reading its text from ``article`` (external content, so nothing is stored twice).
Triggers on ``article`` feed it, so an import, a pull from the backend and the demo build
keep it right without knowing it exists. Accents are folded (``Pössl`` finds ``Possl``).

Revision ID: 0009_knowledge_articles
Revises: 0008_reply_drafts
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_knowledge_articles"
down_revision = "0008_reply_drafts"
branch_labels = None
depends_on = None

_COLUMNS = "title, tags, products, body"
_NEW = "new.title, new.tags, new.products, new.body"
_OLD = "old.title, old.tags, old.products, old.body"
_FORGET_OLD = (f"INSERT INTO article_search (article_search, rowid, {_COLUMNS}) "
               f"VALUES ('delete', old.rowid, {_OLD});")
_INDEX_NEW = f"INSERT INTO article_search (rowid, {_COLUMNS}) VALUES (new.rowid, {_NEW});"

_SEARCH = (
    f"CREATE VIRTUAL TABLE article_search USING fts5({_COLUMNS}, content='article', content_rowid='rowid', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER article_search_added AFTER INSERT ON article BEGIN {_INDEX_NEW} END",
    f"CREATE TRIGGER article_search_removed AFTER DELETE ON article BEGIN {_FORGET_OLD} END",
    f"CREATE TRIGGER article_search_changed AFTER UPDATE ON article BEGIN {_FORGET_OLD} {_INDEX_NEW} END",
)


def upgrade() -> None:
    op.create_table(
        "article",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("products", sa.String(), nullable=False, server_default="[]"),
        sa.Column("tags", sa.String(), nullable=False, server_default="[]"),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("extra", sa.String(), nullable=True),
    )
    for statement in _SEARCH:
        op.execute(statement)


def downgrade() -> None:
    for trigger in ("article_search_added", "article_search_removed", "article_search_changed"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE article_search")
    op.drop_table("article")
