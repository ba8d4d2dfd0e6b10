"""Knowledge articles: a search field, the articles found (a line list), the highlighted one in full.

Opened with ``k`` from the customer view to read, or by another screen to pick one: push
``KnowledgeScreen(desk, pick=True)`` with a callback (or ``push_screen_wait``); enter on an
article then closes the screen with the article's text as a customer reads it (plain lines, see
:mod:`agentdesk.domain.markdown_text`), escape with None. The reply editor inserts what comes back.
Picking takes two enters after the words: one to the articles found, one to pick; an enter that
comes before the search for the words typed has landed picks the first article it finds.

What the field holds is searched as words (see :mod:`agentdesk.domain.knowledge`): quotes,
``*``, ``NEAR`` or ``-`` are no syntax there, so no query can fail. Articles are drawn as
plain text through :func:`agentdesk.domain.text.display_text`, never as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input

from agentdesk.domain.knowledge import article_line
from agentdesk.domain.markdown_text import plain_text
from agentdesk.domain.model import Article
from agentdesk.tui.keymap import key_shown
from agentdesk.tui.widgets.line_list import LineList, list_bindings
from agentdesk.tui.widgets.text_input import TextInput
from agentdesk.tui.widgets.text_pane import TextPane, pane_bindings

if TYPE_CHECKING:
    from agentdesk.tui.app import Desk

RESULTS = 200
"""Articles listed at most for one search."""


def article_text(article: Article) -> str:
    """The article as the reader sees it: title, what it is filed under, then the body as written."""
    filed = [*article.products, *article.tags]
    under = f"\n{' · '.join(filed)}" if filed else ""
    return f"{article.title}{under}\n\n{article.body}"


class KnowledgeQuery(TextInput):
    """The search field: every change searches; down or tab goes to the articles found."""

    HELP_TITLE: ClassVar[str] = "Article search field"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,tab", "screen.focus_results", "Go to the articles found", id="knowledge.to_results"),
    ]


class ArticleList(LineList[Article]):
    """The articles found, best first: title and the start of the text, one line each."""

    HELP_TITLE: ClassVar[str] = "Articles found"
    BINDINGS: ClassVar[list[BindingType]] = list_bindings(
        "knowledge", open_description="Read the article (when picking: insert it)", noun="article", open_id="open")
    loading_message = "Searching the articles…"
    empty_message = "No article holds these words."
    searching = False
    """Set by the screen while the search for the words in the field has not landed."""

    class PickPending(Message):
        """Enter while the search for the words typed is still running."""

    def action_select(self) -> None:
        if self.searching:
            self.post_message(self.PickPending())
            return
        super().action_select()

    def render_row(self, item: Article, row: int, width: int) -> Text:
        return Text(article_line(item, max(width, 1)), end="", no_wrap=True)


class ArticleBody(TextPane):
    """The highlighted article in full, as literal text."""

    HELP_TITLE: ClassVar[str] = "Article"
    BINDINGS: ClassVar[list[BindingType]] = [
        *pane_bindings("knowledge.article"),
        Binding("escape", "screen.focus_results", "Back to the articles found", id="knowledge.article_back"),
    ]


class KnowledgeScreen(ModalScreen[str | None], inherit_bindings=False):
    """Search the knowledge articles; read one, or (``pick``) hand its text back to the screen that asked."""

    CSS_PATH = "knowledge.tcss"
    HELP_TITLE: ClassVar[str] = "Knowledge articles"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close the articles", id="knowledge.close"),
        Binding("tab", "app.focus_next", "Next area", show=False, id="knowledge.focus_next"),
        Binding("shift+tab", "app.focus_previous", "Previous area", show=False, id="knowledge.focus_previous"),
    ]

    class Found(Message):
        """A search's articles (``query`` as it was typed)."""

        def __init__(self, query: str, articles: list[Article]) -> None:
            super().__init__()
            self.query = query
            self.articles = articles

    def __init__(self, desk: Desk, *, pick: bool = False, query: str = "") -> None:
        super().__init__()
        self.desk = desk
        self.pick = pick
        self._query = query
        self.shown_query: str | None = None
        """The query whose articles the list shows (None until the first search lands)."""
        self._pick_when_found = False
        self._handed_over: str | None = None
        """The words an enter in the field handed to the articles found; a second enter on them picks, even
        when it comes before the focus has moved (two enters typed quickly, or pasted)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="knowledge-box"):
            yield KnowledgeQuery(value=self._query, placeholder="Search the articles: any words", id="knowledge-query")
            yield ArticleList(id="knowledge-results")
            yield ArticleBody(id="knowledge-article")

    @property
    def results(self) -> ArticleList:
        return self.query_one(ArticleList)

    @property
    def body(self) -> ArticleBody:
        return self.query_one(ArticleBody)

    def on_mount(self) -> None:
        box = self.query_one("#knowledge-box")
        box.border_title = "Pick an article to insert" if self.pick else "Knowledge articles"
        self.body.set_text(None, "The highlighted article shows here.")
        self.query_one(KnowledgeQuery).focus()
        self.results.searching = True
        self.search(self._query)

    def on_descendant_focus(self) -> None:
        """The box's last line says what the keys in force here do (they follow the focus and the keymap)."""
        focused = self.focused
        if isinstance(focused, KnowledgeQuery):
            self._handed_over = None  # back in the field: enter goes to the articles again
        if focused is self.results:
            key, words = key_shown(self, "select", focused), "inserts the article" if self.pick else "reads it"
        elif focused is self.body:
            key, words = key_shown(self, "screen.focus_results", focused), "back to the list"
        else:
            key, words = key_shown(self, "screen.focus_results", focused), "to the articles"
        closing = key_shown(self, "close")
        hints = [f"{key} {words}" if key else "", f"{closing} closes" if closing and focused is not self.body else ""]
        self.query_one("#knowledge-box").border_subtitle = " · ".join(hint for hint in hints if hint)

    # --- searching ----------------------------------------------------------------------

    @work(exclusive=True, group="knowledge", exit_on_error=False, description="the article search")
    async def search(self, query: str) -> None:
        """Worker: the articles for ``query``; posts them, touches no widget."""
        self.post_message(self.Found(query, await self.desk.reader.search_articles(query, RESULTS)))

    @on(Input.Changed, "#knowledge-query")
    def _typed(self, event: Input.Changed) -> None:
        self._handed_over = None
        self.results.searching = event.value != self.shown_query
        self.search(event.value)

    @on(Input.Submitted, "#knowledge-query")
    def _submitted(self, event: Input.Submitted) -> None:
        if self.pick and self._handed_over == event.value:
            self.results.action_select()
            return
        self._handed_over = event.value
        self.action_focus_results()

    def on_knowledge_screen_found(self, message: KnowledgeScreen.Found) -> None:
        if message.query != self.query_one(KnowledgeQuery).value:
            return  # typing went on; the search for the newer text is on its way
        self.shown_query = message.query
        self.results.searching = False
        if self._pick_when_found and message.articles:
            self._pick(message.articles[0])
            return
        self._pick_when_found = False
        self.results.set_items(message.articles, cursor="start")
        self.results.border_title = f"{len(message.articles)} found" if message.query.strip() else "Every article"
        self._show_article(self.results.cursor_item)

    # --- reading and picking ------------------------------------------------------------

    @on(LineList.Highlighted, "#knowledge-results")
    def _highlighted(self, message: LineList.Highlighted) -> None:
        self._show_article(message.item if isinstance(message.item, Article) else None)

    def _show_article(self, article: Article | None) -> None:
        if article is None:
            self.body.set_text(None, "No article to show.")
            self.body.border_title = "Article"
            return
        self.body.set_text(article_text(article))
        self.body.border_title = article.id

    @on(LineList.Selected, "#knowledge-results")
    def _chosen(self, message: LineList.Selected) -> None:
        article = message.item
        if not isinstance(article, Article):
            return
        if self.pick:
            self._pick(article)
            return
        self._show_article(article)
        self.body.focus()

    @on(ArticleList.PickPending)
    def _pick_pending(self) -> None:
        self._pick_when_found = self.pick

    def _pick(self, article: Article) -> None:
        self.dismiss(plain_text(article.body, article.title))

    def action_focus_results(self) -> None:
        self.results.focus()

    def action_close(self) -> None:
        self.dismiss(None)
