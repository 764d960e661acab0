"""The simulator's controls as a side panel: a command line over every emulated device
(hwsim.controls: ``locks jam 3``, ``cash note 1000``, ``scan 1234-5678``…) with what each
command did below it, newest last. Shown beside the technician panel by
``hwsim demo --screen technician``; ``help`` lists the commands. Up and Down recall
earlier commands."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, RichLog, Static

from hwsim.controls import HELP, SiteControls

FIRST = "Type a command and Enter; 'help' lists them.\n" + HELP


class ControlsPanel(Vertical):
    DEFAULT_CSS = """
    ControlsPanel {
        width: 48;
        height: 1fr;
        background: $surface;
        padding: 0 1;
    }
    ControlsPanel > .panel-title { text-style: bold; color: $secondary; height: 1; }
    ControlsPanel > RichLog { height: 1fr; background: $surface; }
    ControlsPanel:focus-within > .panel-title { color: $accent; }
    """

    BINDINGS = [Binding("up", "recall(-1)", "Earlier command", show=False),
                Binding("down", "recall(1)", "Later command", show=False)]

    def __init__(self, controls: SiteControls) -> None:
        super().__init__()
        self.controls = controls
        self.history: list[str] = []
        self._at = 0

    def compose(self) -> ComposeResult:
        yield Static("Simulator", classes="panel-title")
        self.log_view = RichLog(wrap=True, min_width=20, markup=False, highlight=False, classes="controls-log")
        yield self.log_view
        self.line = Input(placeholder="locks close 3 · scan 1234-5678 · help", classes="controls-line")
        yield self.line

    def on_mount(self) -> None:
        # After the first layout: RichLog wraps to the width it has when a line is written.
        self.call_after_refresh(self.log_view.write, FIRST)

    @on(Input.Submitted, ".controls-line")
    def _run(self, event: Input.Submitted) -> None:
        event.stop()
        line = event.value.strip()
        self.line.clear()
        if not line:
            return
        self.history.append(line)
        self._at = len(self.history)
        self.log_view.write(f"> {line}\n{self.controls.run(line)}")

    def action_recall(self, step: int) -> None:
        if not self.history:
            return
        self._at = max(0, min(len(self.history), self._at + step))
        self.line.value = self.history[self._at] if self._at < len(self.history) else ""
        self.line.cursor_position = len(self.line.value)
