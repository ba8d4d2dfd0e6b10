"""The workstation's themes, chosen by name in the settings file (``theme = …``).

``default``
    Textual's dark look (``textual-dark``), with frames drawn a little brighter.
``high-contrast``
    Black and off-white; every text and background pair the workstation draws
    reaches at least 7:1 (WCAG 1.4.6), frames, scrollbars and the focus frame at
    least 3:1 (1.4.11). No text is blended ("dim" or alpha): muted text is a
    solid grey that still reaches 7:1.
``ansi``
    Only the terminal's own 16 colours and its default foreground and background,
    so the user's palette decides how everything looks; the cursor row and the
    badges are drawn in reverse video, readable in any palette.

Whatever the theme, nothing is told by colour alone (WCAG 1.4.1): the cursor row
has its ``▶``, the focused area a heavy frame (``┏━┓`` instead of ``╭─╮``), states
and channels are words.

``NO_COLOR`` (https://no-color.org): Textual reads it when the app starts. The
workstation then draws with the ``ansi`` theme whatever the settings say, and
every colour becomes the terminal's default: what is left are the words, the
symbols, bold and reverse video (the cursor row, the badges), which is all the
workstation needs to be understood.
"""

from __future__ import annotations

from rich.style import Style
from textual.app import App
from textual.color import Color
from textual.theme import Theme
from textual.widget import Widget

DEFAULT_THEME = "agentdesk"
HIGH_CONTRAST_THEME = "agentdesk-high-contrast"
ANSI_THEME = "agentdesk-ansi"

DEFAULT = Theme(
    # textual-dark's colours: the look the workstation always had
    name=DEFAULT_THEME,
    primary="#0178D4",
    secondary="#004578",
    accent="#ffa62b",
    warning="#ffa62b",
    error="#ba3c5b",
    success="#4EBF71",
    foreground="#e0e0e0",
    variables={
        # frames of areas without focus: textual-dark draws them nearly invisible; 3:1 here (WCAG 1.4.11)
        "border-blurred": "#6e6e6e",
        # textual-dark's text below 4.5:1 (WCAG 1.4.3), a shade lighter: the cursor row's text (3.8:1 on
        # the blue), internal events (4.2:1), placeholders and keys not in force (3.4:1)
        "block-cursor-foreground": "#ffffff",
        "text-secondary": "#6f9ec2",
        # a notification's "Error" title on its panel: textual-dark's error text reaches only 3.6:1 there
        "text-error": "#e8a0b0",
        "text-disabled": "auto 60%",
    },
)

HC_BLACK = "#000000"
HC_WHITE = "#f2f2f2"
HC_BLUE = "#8ccbff"
"""The focus frame, the cursor row and the scrollbar being dragged."""

HIGH_CONTRAST = Theme(
    name=HIGH_CONTRAST_THEME,
    primary=HC_BLUE,
    secondary="#c9b5ff",
    accent="#ffd27f",
    warning="#ffc857",
    error="#ff9a9a",
    success="#86e3a4",
    foreground=HC_WHITE,
    background=HC_BLACK,
    surface="#0a0a0a",
    panel="#1a1a1a",
    dark=True,
    variables={
        # Textual derives these with alpha blending ("auto 60%" …); here every text is a solid colour.
        "boost": "#141414",
        "text": HC_WHITE,
        "text-muted": "#c8c8c8",
        "text-disabled": "#bcbcbc",
        "text-primary": "#a9d8ff",
        "text-secondary": "#d4c4ff",
        "text-accent": "#ffd27f",
        "text-warning": "#ffcb66",
        "text-error": "#ffa8a8",
        "text-success": "#93e8af",
        "foreground-muted": "#c8c8c8",
        "foreground-disabled": "#bcbcbc",
        "primary-muted": "#12304a",
        "warning-muted": "#3a2900",
        "error-muted": "#4a1118",
        "success-muted": "#0d361d",
        "accent-muted": "#3a2c0c",
        "block-cursor-foreground": HC_BLACK,
        "block-cursor-background": HC_BLUE,
        "block-cursor-text-style": "bold",
        "block-cursor-blurred-foreground": "#ffffff",
        "block-cursor-blurred-background": "#3d3d3d",
        "block-cursor-blurred-text-style": "none",
        "block-hover-background": "#262626",
        "border": HC_BLUE,
        "border-blurred": "#8c8c8c",
        "surface-active": "#1a1a1a",
        "scrollbar": "#a6a6a6",
        "scrollbar-hover": "#cccccc",
        "scrollbar-active": HC_BLUE,
        "scrollbar-background": "#1a1a1a",
        "scrollbar-background-hover": "#1a1a1a",
        "scrollbar-background-active": "#1a1a1a",
        "scrollbar-corner-color": "#1a1a1a",
        "input-cursor-background": HC_WHITE,
        "input-cursor-foreground": HC_BLACK,
        "input-selection-background": "#1f4466",
        "input-selection-foreground": "#ffffff",
        "footer-background": "#1a1a1a",
        "footer-foreground": HC_WHITE,
        "footer-key-foreground": "#ffd27f",
        "footer-description-foreground": HC_WHITE,
        "link-color": HC_WHITE,
        "link-color-hover": HC_BLACK,
        "link-background-hover": HC_BLUE,
        "button-color-foreground": HC_BLACK,
        "screen-selection-background": "#1f4466",
        "screen-selection-foreground": "#ffffff",
    },
)

ANSI = Theme(
    name=ANSI_THEME,
    ansi=True,
    primary="ansi_blue",
    secondary="ansi_magenta",
    accent="ansi_cyan",
    warning="ansi_yellow",
    error="ansi_red",
    success="ansi_green",
    foreground="ansi_default",
    background="ansi_default",
    surface="ansi_default",
    panel="ansi_default",
    boost="ansi_default",
    dark=True,
    variables={
        # The default pair is the one pair every palette makes readable: muted text,
        # the focus frame and the cursor row use it; reverse video marks the cursor row.
        "ansi-background": "ansi_default",
        "ansi-foreground": "ansi_default",
        "text-muted": "ansi_default",
        "text-disabled": "ansi_default",
        "foreground-muted": "ansi_default",
        "foreground-disabled": "ansi_default",
        "border": "ansi_default",
        "border-blurred": "ansi_bright_black",
        "block-cursor-foreground": "ansi_default",
        "block-cursor-background": "ansi_default",
        "block-cursor-text-style": "bold reverse",
        "block-cursor-blurred-foreground": "ansi_default",
        "block-cursor-blurred-background": "ansi_default",
        "block-cursor-blurred-text-style": "underline",
        "warning-muted": "ansi_default",
        "error-muted": "ansi_default",
        "success-muted": "ansi_default",
        "primary-muted": "ansi_default",
        "accent-muted": "ansi_default",
        "scrollbar": "ansi_blue",
        "scrollbar-hover": "ansi_bright_blue",
        "scrollbar-active": "ansi_bright_blue",
        "scrollbar-background": "ansi_default",
        "scrollbar-background-hover": "ansi_default",
        "scrollbar-background-active": "ansi_default",
        "scrollbar-corner-color": "ansi_default",
        "input-cursor-background": "ansi_default",
        "input-cursor-foreground": "ansi_default",
        "input-cursor-text-style": "reverse",
        "input-selection-background": "ansi_cyan",
        "input-selection-foreground": "ansi_black",
        "screen-selection-background": "ansi_cyan",
        "screen-selection-foreground": "ansi_black",
        "footer-key-foreground": "ansi_cyan",
    },
)

THEMES: dict[str, Theme] = {"default": DEFAULT, "high-contrast": HIGH_CONTRAST, "ansi": ANSI}
"""The themes by their name in the settings (``agentdesk.config.THEMES``)."""


def apply_theme(app: App, name: str) -> None:
    """Make ``name`` (one of ``agentdesk.config.THEMES``) the app's theme; ``NO_COLOR`` makes it ``ansi``."""
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}")
    for theme in THEMES.values():
        if theme.name not in app.available_themes:
            app.register_theme(theme)
    if app.no_color:
        name = "ansi"
        _no_color_filter(app)
    theme = THEMES[name]
    if app.is_running:
        app.theme = theme.name
        return
    # Before the app runs, nothing is styled yet: setting the theme the usual way would make
    # Textual restyle everything once more at start (tens of ms of cold start). So the watcher's
    # work is done here by hand: the theme's classes, the ANSI filter and the stylesheet's
    # variables, which Textual took from its default theme when the app was built.
    app.set_reactive(App.theme, theme.name)
    app.set_class(True, f"-theme-{theme.name}")
    app.set_class(theme.dark, "-dark-mode")
    app.set_class(not theme.dark, "-light-mode")
    app._refresh_truecolor_filter(app.ansi_theme)  # noqa: SLF001 - the watcher's own step, no public twin
    app.stylesheet.set_variables(app.get_css_variables())  # nothing is parsed yet: cheap


def _no_color_filter(app: App) -> None:
    """Under ``NO_COLOR`` every colour becomes the terminal's default one.

    Textual chose its filter when the app was built, before there was a theme: for
    a theme in RGB it turns colours into greys (``Monochrome``), still drawn as RGB
    escape codes. The ``ansi`` theme is drawn in the terminal's own colours, for
    which Textual's choice is ``NoColor``: no colour code at all.
    """
    from textual.filter import Monochrome, NoColor

    filters = app._filters  # noqa: SLF001 - Textual keeps its line filters here; there is no setter
    for index, line_filter in enumerate(filters):
        if isinstance(line_filter, Monochrome):
            filters[index] = NoColor()


def text_style(node: Widget, component: str) -> Style:
    """A component class's colour and text attributes, without its background.

    For words put inside another widget's text (a label in the banner, a date in
    the side panel): the widget's own background shows through, and the colour
    comes from the theme (``color: $text-muted`` …) rather than from Rich's
    ``dim``, which Textual turns into a blend the theme does not control.
    """
    full = node.get_component_rich_style(component)
    return Style(color=full.color, bold=full.bold, dim=full.dim, italic=full.italic, underline=full.underline,
                 strike=full.strike, reverse=full.reverse)


# --------------------------------------------------------------------------- contrast (WCAG 2.2)


def relative_luminance(color: Color) -> float:
    """WCAG relative luminance of an opaque colour (0 black … 1 white)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast_ratio(first: Color | str, second: Color | str) -> float:
    """WCAG contrast ratio of two opaque colours: 1 (none) … 21 (black on white)."""
    a = relative_luminance(Color.parse(first) if isinstance(first, str) else first)
    b = relative_luminance(Color.parse(second) if isinstance(second, str) else second)
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)
