"""The workstation's screens: one module each, with its ``.tcss`` beside it."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState


class DeskScreen(Screen, inherit_bindings=False):
    """A full screen of the workstation: focus moves with tab / shift+tab, sizes set CSS classes.

    Textual's own screen bindings are replaced so that every binding in force has
    an id (``<screen>.<action>``) and a description, and can be remapped.
    """

    HELP_TITLE: ClassVar[str] = "This screen"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "app.focus_next", "Next area", show=False, id="screen.focus_next"),
        Binding("shift+tab", "app.focus_previous", "Previous area", show=False,
                id="screen.focus_previous"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A read that failed is said in one line; the screen stays usable."""
        if event.state is WorkerState.ERROR:
            worker = event.worker
            what = worker.description or worker.name or "a read"
            self.notify(f"{what} failed: {worker.error}", severity="error", markup=False)

    def preset_breakpoints(self) -> None:
        """Set the size classes before the first layout (call first thing in ``compose``).

        Textual sets them on the first resize, which would restyle and lay out the
        whole screen a second time before it is first shown.
        """
        width, height = self.app.size
        horizontal, vertical = self.HORIZONTAL_BREAKPOINTS, self.VERTICAL_BREAKPOINTS
        classes = {name: False for _, name in horizontal + vertical}
        for name in self._get_breakpoint_classes(width, horizontal):
            classes[name] = True
        for name in self._get_breakpoint_classes(height, vertical):
            classes[name] = True
        self.update_classes(classes, update=False)
