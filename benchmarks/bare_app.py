"""The baseline of the start-up and memory benchmarks: the smallest Textual app that paints.

Run as a script (``python benchmarks/bare_app.py``): it composes one ``Static``
and exits right after its first paint; with ``--stay`` it stays until ``ctrl+q``.
"""

import sys

from textual.app import App, ComposeResult
from textual.widgets import Static


class BareApp(App):
    def compose(self) -> ComposeResult:
        yield Static("bare Textual app")

    def on_mount(self) -> None:
        if "--stay" not in sys.argv:
            self.call_after_refresh(self.exit)


if __name__ == "__main__":
    BareApp().run()
