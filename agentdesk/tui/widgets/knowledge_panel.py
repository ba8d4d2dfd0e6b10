"""The side panel's list of knowledge articles that fit the customer's open cases: a title and a line each.

The panel reads in a worker of its own (the customer screen asks it with :meth:`KnowledgePanel.show_for`)
and draws plain text only: an article is data, never markup.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static

from agentdesk.desk.knowledge import articles_at_hand
from agentdesk.desk.store import StoreReader
from agentdesk.domain.knowledge import article_summary
from agentdesk.domain.model import Article
from agentdesk.domain.text import one_line
from agentdesk.tui.themes import text_style

PANEL_LINE = 120
"""Characters of an article's title, and of its first line, at most (the panel wraps them; longer ones are cut)."""


class KnowledgePanel(Static):
    """Articles for the open cases, best first; ``k`` searches them all."""

    class Read(Message, bubble=False):
        def __init__(self, customer_id: str, articles: list[Article]) -> None:
            super().__init__()
            self.customer_id = customer_id
            self.articles = articles

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(Text("…"), id=id)
        self.customer_id: str | None = None
        self.articles: list[Article] = []
        self.hint = ""
        """What to press to search them all (the key in force), shown under the list."""

    def show_for(self, reader: StoreReader, customer_id: str, hint: str = "") -> None:
        self.customer_id = customer_id
        self.hint = hint
        self._read(reader, customer_id)

    @work(exclusive=True, group="knowledge-panel", exit_on_error=False, description="reading the articles at hand")
    async def _read(self, reader: StoreReader, customer_id: str) -> None:
        self.post_message(self.Read(customer_id, await articles_at_hand(reader, customer_id)))

    def on_knowledge_panel_read(self, message: KnowledgePanel.Read) -> None:
        if message.customer_id != self.customer_id:
            return  # read for the customer shown before
        self.articles = message.articles
        self.border_title = f"Articles · {len(message.articles)}"
        text = Text(end="")
        if not message.articles:
            text.append("No article fits the open cases.", text_style(self.screen, "customer--note"))
        for index, article in enumerate(message.articles):
            if index:
                text.append("\n")
            text.append(one_line(article.title, PANEL_LINE), "bold")
            summary = article_summary(article)
            if summary:
                text.append(" — ")
                text.append(one_line(summary, PANEL_LINE))
        if self.hint:
            text.append("\n")
            text.append(self.hint, text_style(self.screen, "customer--muted"))
        self.update(text)
