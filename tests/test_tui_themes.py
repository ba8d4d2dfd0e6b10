"""Themes, contrast and colour (WCAG 2.2 1.4.1, 1.4.3, 1.4.6, 1.4.11), measured on what is drawn.

The screens are rendered with Pilot and the composed strips are walked cell by
cell (``screen._compositor.render_strips()``). Textual applies its line filters
(ANSI to RGB, Rich's ``dim`` turned into a blended colour, ``NO_COLOR``) while it
renders each widget, so the segments here carry the colours the terminal gets.

* high contrast: every text cell reaches 7:1 against its own background; box
  drawing and block characters (frames, the focus frame, scrollbar glyphs) and
  the scrollbar's thumb against its track reach 3:1;
* ansi: only the terminal's 16 colours and its default pair are drawn;
* ``NO_COLOR``: no colour at all is drawn, and every state still says what it is
  in words or symbols.

Behind a dialog the screen it covers is drawn dimmed; it is not in use then (WCAG
1.4.3 exempts inactive components), so only the dialog's own cells are measured.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from rich.cells import get_character_cell_size
from rich.color import Color as RichColor
from rich.style import Style
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.filter import dim_color
from textual.screen import ModalScreen
from textual.scrollbar import ScrollBar

from agentdesk.tui.themes import ANSI, HIGH_CONTRAST, THEMES, apply_theme, contrast_ratio
from tests.test_tui_support import FROZEN, MovableClock, build, make_clocked_app, screen_text, story_records

WAIT = 10
TEXT_RATIO = 7.0
"""WCAG 1.4.6 (enhanced contrast) for every text the high-contrast theme draws."""
GRAPHIC_RATIO = 3.0
"""WCAG 1.4.11: frames, the focus frame, scrollbars."""
SIZE = (140, 40)


def is_graphic(char: str) -> bool:
    """Box drawing and block elements (U+2500–U+259F): frames, scrollbar glyphs."""
    return 0x2500 <= ord(char) <= 0x259F


# --------------------------------------------------------------------------- cells and their colours


@dataclass(frozen=True, slots=True)
class Cell:
    x: int
    y: int
    char: str
    fg: Color
    bg: Color
    style: Style


def resolve(color: RichColor | None, app: App, foreground: bool) -> Color:
    """The RGB a terminal shows for a Rich colour; default and ANSI colours as Textual's own ANSI palette has them."""
    theme = app.ansi_theme
    if color is None or color.is_default:
        triplet = theme.foreground_color if foreground else theme.background_color
        return Color(*triplet)
    if color.triplet is None:
        return Color(*color.get_truecolor(theme, foreground=foreground))
    return Color(*color.triplet)


def cells(app: App) -> Iterator[Cell]:
    """Every cell of the screen as drawn: character, the colours a viewer sees (reverse and dim applied)."""
    for y, strip in enumerate(app.screen._compositor.render_strips()):
        x = 0
        for segment in strip:
            if segment.control:
                continue
            style = segment.style or Style()
            fg = resolve(style.color, app, True)
            bg = resolve(style.bgcolor, app, False)
            if style.dim:  # the terminal's faint, as Textual's own filter blends it
                fg = Color.from_rich_color(dim_color(bg.rich_color, fg.rich_color))
            if style.reverse:
                fg, bg = bg, fg
            for char in segment.text:
                yield Cell(x, y, char, fg, bg, style)
                x += get_character_cell_size(char)


def in_use(app: App) -> set[tuple[int, int]] | None:
    """The cells of a dialog's own widgets (None: a full screen, every cell counts)."""
    screen = app.screen
    if not isinstance(screen, ModalScreen):
        return None
    area: set[tuple[int, int]] = set()
    for widget, (region, clip) in screen._compositor.visible_widgets.items():
        if widget is screen:
            continue
        visible = region.intersection(clip)
        area.update((x, y) for y in range(visible.y, visible.bottom) for x in range(visible.x, visible.right))
    return area


def _topmost(app: App, x: int, y: int) -> object:
    try:
        return app.screen.get_widget_at(x, y)[0]
    except Exception:  # noqa: BLE001 - nothing there
        return None


def low_contrast(app: App, text_ratio: float = TEXT_RATIO, graphics: bool = True) -> list[str]:
    """Cells below 7:1 (text) or 3:1 (graphics), and scrollbars whose thumb is below 3:1 against the track.

    ``graphics=False``: text only (at ``text_ratio``).
    """
    area = in_use(app)
    lines = [strip.text for strip in app.screen._compositor.render_strips()]
    found: dict[tuple, str] = {}
    bars: dict[ScrollBar, set[Color]] = {}
    regions = [(bar, region) for bar, (region, _clip) in app.screen._compositor.visible_widgets.items()
               if isinstance(bar, ScrollBar)]
    for cell in cells(app):
        if area is not None and (cell.x, cell.y) not in area:
            continue
        for bar, region in regions:
            if region.contains(cell.x, cell.y) and _topmost(app, cell.x, cell.y) is bar:  # not under a toast
                bars.setdefault(bar, set()).add(cell.bg)
        if cell.char.isspace() or (is_graphic(cell.char) and not graphics):
            continue
        need = GRAPHIC_RATIO if is_graphic(cell.char) else text_ratio
        ratio = contrast_ratio(cell.fg, cell.bg)
        if ratio < need:
            key = (cell.fg.hex, cell.bg.hex, need)
            found.setdefault(key, f"{ratio:.2f}:1 < {need}:1 for {cell.fg.hex} on {cell.bg.hex}, e.g. "
                                  f"{cell.char!r} in line {cell.y}: {lines[cell.y].strip()[:70]!r}")
    for bar, colours in bars.items():
        if graphics and len(colours) > 1:  # a thumb on a track (a bar with nothing to scroll is all track)
            worst = min(contrast_ratio(a, b) for a in colours for b in colours if a != b)
            if worst < GRAPHIC_RATIO:
                found[(bar,)] = f"scrollbar of {bar.parent!r}: thumb against track {worst:.2f}:1"
    return list(found.values())


def colours_drawn(app: App) -> set[RichColor]:
    """Every foreground and background colour in the composed segments."""
    colours: set[RichColor] = set()
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            if segment.style is not None and not segment.control:
                colours.update(color for color in (segment.style.color, segment.style.bgcolor) if color is not None)
    return colours


# --------------------------------------------------------------------------- getting to each state


@pytest.fixture(scope="module")
def built_stories(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(story_records(), tmp_path_factory.mktemp("themes") / "stories.sqlite3")


def copy_store(built: Path, into: Path) -> Path:
    """A copy of a store file (with its WAL, if any) in ``into``."""
    for file in built.parent.glob(built.name + "*"):
        shutil.copy(file, into / file.name)
    return into / built.name


@pytest.fixture
def stories(built_stories: Path, tmp_path: Path) -> Path:
    """A fresh copy for each test: decisions taken in one do not show in the next."""
    return copy_store(built_stories, tmp_path)


async def settle(app, pilot) -> None:  # noqa: ANN001
    """Let this test's workers finish (not the app's endless store watcher) and the screen catch up."""
    for _ in range(3):
        await pilot.pause()
        running = [worker for worker in app.workers if worker.group not in ("watch",)]
        await asyncio.wait_for(app.workers.wait_for_complete(running), WAIT)
    await pilot.pause()


async def opened(app, pilot) -> None:  # noqa: ANN001
    await asyncio.wait_for(app.queue_painted.wait(), WAIT)
    await asyncio.wait_for(app.desk.wait_ledger(), WAIT)
    await settle(app, pilot)


async def open_customer(app, pilot, customer_id: str):  # noqa: ANN001, ANN202
    from agentdesk.tui.messages import OpenCustomer
    from agentdesk.tui.screens.customer import CustomerScreen

    await opened(app, pilot)
    app.post_message(OpenCustomer(customer_id))
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, CustomerScreen)
    await asyncio.wait_for(screen.timeline.wait_painted(), WAIT)
    await pilot.pause()
    return screen


async def decide(app, pilot, screen, key: str) -> None:  # noqa: ANN001
    await pilot.press(key)
    await asyncio.wait_for(screen.decision_painted.wait(), WAIT)
    await settle(app, pilot)


async def escalate_for_the_lead(path: Path) -> None:
    """An agent's refund beyond their limit, escalated to the lead (as the decision bar does)."""
    from agentdesk.authority_file import demo_matrix
    from agentdesk.domain.authority import Proposal
    from agentdesk.domain.money import Money
    from agentdesk.store.ledger import Ledger

    async with Ledger.open(path, demo_matrix(), lambda: FROZEN) as ledger:
        refused = await ledger.take("a-7", "c-1001", Proposal("refund", Money.parse("80.00", "EUR")),
                                    undo_window=timedelta(0))
        assert refused.decision is None
        taken = await ledger.take("a-7", "c-1001", Proposal("escalate", escalates=refused.verdict.proposal,
                                                           reason=refused.verdict.reason), undo_window=timedelta(0))
        assert taken.decision is not None and taken.decision.approval == "waiting"


async def each_state(app, pilot) -> AsyncIterator[str]:  # noqa: ANN001
    """Walk an agent's workstation through the states worth measuring; yields each state's name when shown."""
    await opened(app, pilot)
    yield "queue"
    await pilot.press("slash", *"Lind")
    await settle(app, pilot)
    assert "Petra Lindner" in screen_text(app)
    yield "queue with the search open"
    await pilot.press("down")
    await settle(app, pilot)
    yield "search results"
    await pilot.press("escape", "escape")
    await settle(app, pilot)

    screen = await open_customer(app, pilot, "c-1003")
    yield "customer"
    await decide(app, pilot, screen, "r")
    assert "PENDING" in screen_text(app)
    yield "customer with a pending decision"
    await pilot.press("enter")  # the detail pane, focused
    await settle(app, pilot)
    yield "customer, reading an entry"
    await pilot.press("escape")

    screen = await open_customer(app, pilot, "c-1001")
    await pilot.press("e")  # nothing to escalate yet: the dialog asks what to propose
    await settle(app, pilot)
    await pilot.press("r", *"9000")
    await settle(app, pilot)
    assert "NOT POSSIBLE" in screen_text(app)
    yield "adjust dialog saying NOT POSSIBLE"
    await pilot.press("escape")
    await settle(app, pilot)
    await pilot.press("a")
    await settle(app, pilot)
    await pilot.press("r", *"80", "enter")
    await asyncio.wait_for(screen.decision_painted.wait(), WAIT)
    await settle(app, pilot)
    assert "REFUSED" in screen_text(app)
    yield "customer with a refusal"

    await pilot.press("n")
    await settle(app, pilot)
    yield "prompt dialog"
    await pilot.press("escape")
    await settle(app, pilot)

    await pilot.press("question_mark")
    await settle(app, pilot)
    yield "help"
    await pilot.press("escape")
    await settle(app, pilot)

    app.notify("Callback due now: Petra Lindner on +49 170 555 0199", title="Callback", severity="warning")
    app.notify("Could not read rows: disk I/O error", severity="error")
    app.notify("Queue reloaded.", severity="information")
    await settle(app, pilot)
    yield "notifications"
    await pilot.press("ctrl+n")  # every notice of the session, to read at one's own pace
    await settle(app, pilot)
    yield "notices"
    await pilot.press("escape")
    await settle(app, pilot)


async def lead_states(app, pilot) -> AsyncIterator[str]:  # noqa: ANN001
    await opened(app, pilot)
    assert "for your approval" in screen_text(app)
    yield "queue of a lead, an escalation waiting"
    await pilot.press("w")
    await settle(app, pilot)
    assert "refund 80.00 EUR" in screen_text(app) and "Escalated by" in screen_text(app)
    yield "approvals"


# --------------------------------------------------------------------------- the themes


async def test_each_setting_names_a_registered_theme(stories: Path) -> None:
    for name, theme in THEMES.items():
        app = make_clocked_app(stories, MovableClock(), theme=name)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await opened(app, pilot)
            assert app.theme == theme.name
            assert app.current_theme is theme
    with pytest.raises(ValueError, match="unknown theme"):
        apply_theme(app, "sepia")


def _theme_colours(theme) -> dict[str, str]:  # noqa: ANN001
    """The variables Textual derives from a theme, with the theme's own overrides (as App.get_css_variables)."""
    return {**theme.to_color_system().generate(), **theme.variables}


def _solid(value: str) -> Color:
    color = Color.parse(value)
    assert color.a == 1, f"{value!r} is blended (alpha {color.a}): its contrast would depend on what is under it"
    return color


HC_TEXTS = ("foreground", "text", "text-muted", "text-disabled", "text-primary", "text-secondary", "text-accent",
            "text-warning", "text-error", "text-success", "foreground-muted", "foreground-disabled",
            "footer-foreground", "footer-key-foreground")
HC_GROUNDS = ("background", "surface", "panel", "boost", "panel-lighten-1", "surface-active")
"""Every background text is drawn on (``panel-lighten-1``: notifications)."""
HC_PAIRS = (
    ("text-warning", "warning-muted"), ("text-error", "error-muted"), ("text-success", "success-muted"),
    ("text", "warning-muted"), ("text", "success-muted"), ("text", "error-muted"),
    ("block-cursor-foreground", "block-cursor-background"),
    ("block-cursor-blurred-foreground", "block-cursor-blurred-background"),
    ("input-cursor-foreground", "input-cursor-background"),
    ("input-selection-foreground", "input-selection-background"),
    ("screen-selection-foreground", "screen-selection-background"),
)
HC_GRAPHICS = (
    *((line, ground) for line in ("border", "border-blurred", "block-cursor-background", "warning", "error",
                                  "success") for ground in ("background", "surface", "panel", "boost",
                                                             "panel-lighten-1")),
    *((thumb, "scrollbar-background") for thumb in ("scrollbar", "scrollbar-hover", "scrollbar-active")),
)
"""Frames (focused and not), the cursor row's highlight, notification edges, scrollbar thumbs on their track."""


def hc_ratios() -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    colours = _theme_colours(HIGH_CONTRAST)
    texts = {(fg, bg): contrast_ratio(_solid(colours[fg]), _solid(colours[bg]))
             for fg, bg in [*((fg, bg) for fg in HC_TEXTS for bg in HC_GROUNDS), *HC_PAIRS]}
    graphics = {(fg, bg): contrast_ratio(_solid(colours[fg]), _solid(colours[bg])) for fg, bg in HC_GRAPHICS}
    return texts, graphics


def test_the_high_contrast_palette_reaches_7_to_1_for_text_and_3_to_1_for_graphics() -> None:
    texts, graphics = hc_ratios()
    low_text = {pair: round(ratio, 2) for pair, ratio in texts.items() if ratio < TEXT_RATIO}
    low_graphics = {pair: round(ratio, 2) for pair, ratio in graphics.items() if ratio < GRAPHIC_RATIO}
    assert not low_text, low_text
    assert not low_graphics, low_graphics


def test_the_ansi_theme_names_only_the_terminals_colours() -> None:
    for name, value in _theme_colours(ANSI).items():
        if not isinstance(value, str) or name.endswith("text-style") or name.endswith("-style"):
            continue
        first = value.split()[0]
        if first in ("transparent", "initial", "auto") or not (first.startswith("ansi_") or first.startswith("#")):
            continue
        assert first.startswith("ansi_"), f"{name} = {value!r}"


# --------------------------------------------------------------------------- high contrast, as drawn


async def test_high_contrast_every_cell_of_every_screen_reaches_its_ratio(stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock(), theme="high-contrast")
    problems: dict[str, list[str]] = {}
    seen = []
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        async for state in each_state(app, pilot):
            seen.append(state)
            if found := low_contrast(app):
                problems[state] = found
    assert len(seen) >= 11, seen
    assert not problems, problems


async def test_high_contrast_for_a_lead_and_read_only(stories: Path) -> None:
    await escalate_for_the_lead(stories)
    problems: dict[str, list[str]] = {}
    app = make_clocked_app(stories, MovableClock(), agent_id="a-2", theme="high-contrast")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        async for state in lead_states(app, pilot):
            if found := low_contrast(app):
                problems[state] = found
    app = make_clocked_app(stories, MovableClock(), read_only=True, theme="high-contrast")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_customer(app, pilot, "c-1001")
        assert "READ-ONLY" in screen_text(app)
        if found := low_contrast(app):
            problems["read-only customer"] = found
    assert not problems, problems


async def test_the_default_theme_draws_every_text_at_4_5_to_1(stories: Path) -> None:
    """WCAG 1.4.3 (AA) in the everyday look too."""
    app = make_clocked_app(stories, MovableClock())
    problems: dict[str, list[str]] = {}
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        async for state in each_state(app, pilot):
            if found := low_contrast(app, text_ratio=4.5, graphics=False):
                problems[state] = found
    assert not problems, problems


# --------------------------------------------------------------------------- ansi and NO_COLOR, as drawn


def _not_ansi(colours: set[RichColor]) -> set[str]:
    return {color.name for color in colours
            if not color.is_default and (color.triplet is not None or color.number is None or color.number >= 16)}


async def test_the_ansi_theme_draws_only_the_terminals_16_colours_and_its_default_pair(stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock(), theme="ansi")
    drawn: set[RichColor] = set()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        assert app.native_ansi_color  # Textual turns no ANSI colour into RGB
        async for state in each_state(app, pilot):
            drawn |= colours_drawn(app)
            assert not _not_ansi(drawn), (state, _not_ansi(drawn))
    assert any(not color.is_default for color in drawn)  # channels, keys, states: the palette's colours


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a state shows in words or symbols: every piece must be on screen with no colour at all."""

    state: str
    words: tuple[str, ...]


# There is no "offline" state yet: working without the backend (sync) comes with a later issue.
# When it does, its words belong in this list too.
EVIDENCE = {
    "queue": ("▶", "┏", "━", "! overdue by", "chat", "email", "sms"),
    "queue with the search open": ("┏", "Search"),
    "search results": ("▶", "┏", "waiting"),
    "customer": ("▶", "┏", "◂ in", "▸ out", "◆ internal", "email", "phone", "app", "OVERDUE",
                 "inbound, from the customer"),
    "customer with a pending decision": ("PENDING", "◆ decision", "[pending]", "u undo", "s send now"),
    "customer, reading an entry": ("┏", "▶", "◆ decision refund ["),
    "adjust dialog saying NOT POSSIBLE": ("✗ NOT POSSIBLE", "[ refund ]", "┏"),
    "customer with a refusal": ("REFUSED", "over your limit"),
    "prompt dialog": ("┏", "Internal note"),
    "help": ("┏", "Keys in force"),
    "notifications": ("Callback", "Could not read rows"),
    "notices": ("Callback", "Could not read rows"),
}


async def test_no_color_draws_no_colour_and_every_state_still_says_what_it_is(
        stories: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_clocked_app(stories, MovableClock(), theme="high-contrast")  # NO_COLOR wins over the setting
    missing: dict[str, list[str]] = {}
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        assert app.no_color
        async for state in each_state(app, pilot):
            drawn = colours_drawn(app)
            assert all(color.is_default for color in drawn), (state, {color.name for color in drawn})
            text = screen_text(app)
            if lost := [word for word in EVIDENCE[state] if word not in text]:
                missing[state] = lost
            if state == "customer with a pending decision":
                # queued: sent now, the timeline says so in words
                await pilot.press("s")
                await settle(app, pilot)
                if "[queued]" not in screen_text(app):
                    missing["queued"] = ["[queued]"]
    assert not missing, missing


async def test_no_color_read_only_and_a_leads_approvals_say_what_they_are(
        stories: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    await escalate_for_the_lead(stories)
    app = make_clocked_app(stories, MovableClock(), read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_customer(app, pilot, "c-1001")
        assert all(color.is_default for color in colours_drawn(app))
        text = screen_text(app)
        assert " READ-ONLY " in text and "READ-ONLY · decisions are not available" in text
    app = make_clocked_app(stories, MovableClock(), agent_id="a-2")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await opened(app, pilot)
        await pilot.press("w")
        await settle(app, pilot)
        text = screen_text(app)
        assert all(color.is_default for color in colours_drawn(app))
        assert "▶" in text and "┏" in text and "refund 80.00 EUR" in text
        await pilot.press("y")
        await settle(app, pilot)
        assert "Approved: refund 80.00 EUR" in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_customer(app, pilot, "c-1001")
        text = screen_text(app)
        assert "[approved] escalate" in text  # the escalation's state, in words on the timeline


# --------------------------------------------------------------------------- disabled keys


class _Keys(App[None]):
    """A key bar with one key shown but not in force (``check_action`` says None)."""

    BINDINGS = [Binding("r", "reload", "Reload", id="test.reload"), Binding("x", "export", "Export", id="test.export")]

    def compose(self) -> ComposeResult:
        from agentdesk.tui.widgets.key_bar import KeyBar

        yield KeyBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "export" else True

    def on_mount(self) -> None:
        apply_theme(self, "high-contrast")


async def test_a_key_not_in_force_says_so_in_words() -> None:
    app = _Keys()
    async with app.run_test(size=(80, 3)) as pilot:
        await pilot.pause()
        line = screen_text(app)
        assert "r Reload" in line and "x Export (not now)" in line and "Reload (not now)" not in line
        assert not low_contrast(app)
