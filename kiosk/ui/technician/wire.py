"""One device's line on the technician panel (Enter on a device in the status screen;
Escape goes back): its last frames both ways — time, direction, the bytes in hex, what
they mean — newest at the bottom, its counters and round-trip times, refreshed every
``REFRESH_S``. What is secret or personal (a PIN, a recipient's scanned code, a
fingerprint template) was never kept by the driver: the line says how many bytes were
left out. From the technician's ``device_traffic`` call (a read: it keeps nobody signed in).
"""

from __future__ import annotations

import time

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable

from kiosk.errors import KioskError, NotAllowed
from kiosk.service.dto import DeviceTraffic
from kiosk.ui.technician.frame import TechScreen
from kiosk.ui.technician.texts import TechnicianTexts
from kiosk.ui.widgets import TopBar, Words

REFRESH_S = 1.0
ARROWS = {"tx": "→", "rx": "←", "noise": "×"}


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def summary(t: TechnicianTexts, traffic: DeviceTraffic) -> str:
    head = f"{traffic.role} · {traffic.url}"
    if not traffic.kept:
        lines = [head, t.wire_not_kept.format(why=traffic.why)]
    else:
        lines = [head, t.wire_summary.format(sent=traffic.sent, received=traffic.received, noise=traffic.noise_bytes,
                                             last=ms(traffic.rtt_last_ms), p50=ms(traffic.rtt_p50_ms),
                                             max=ms(traffic.rtt_max_ms))]
    if traffic.counters:
        lines.append(" · ".join(f"{k} {v}" for k, v in sorted(traffic.counters.items())))
    return "\n".join(lines)


class WireScreen(TechScreen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", show=False)]

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role
        self.traffic: DeviceTraffic | None = None
        self.problem: str | None = None

    def compose_main(self) -> ComposeResult:
        role = self.role
        yield TopBar(lambda t: t.wire_title.format(role=role), language=True, cancel=lambda t: t.back,
                     cancel_action="app.pop_screen")
        with Vertical(classes="tech-body"):
            self.head = Words(classes="tech-summary")
            yield self.head
            self.frames: DataTable[str] = DataTable(cursor_type="none", zebra_stripes=True, classes="tech-wire")
            yield self.frames

    def on_mount(self) -> None:
        self.watch(self.app, "language", lambda _: self.show(), init=False)
        self.set_interval(REFRESH_S, self.reload)
        self.reload()

    @work(exclusive=True, group="wire-reload")
    async def reload(self) -> None:
        try:
            self.traffic = await self.tech.service.device_traffic(self.role)
            self.problem = None
        except NotAllowed:
            self.tech.signed_out()
            return
        except KioskError as err:
            self.problem = str(err)
        if self.is_attached:
            self.show()

    def show(self) -> None:
        t: TechnicianTexts = self.tech.texts_for(self.tech.language)
        traffic, problem = self.traffic, self.problem
        text = t.failed.format(why=problem) if problem else summary(t, traffic) if traffic else ""
        self.head.say(lambda _t: text)
        self.frames.clear(columns=True)
        self.frames.add_columns(t.col_time, "", t.col_bytes, t.col_meaning)
        for line in traffic.lines if traffic else ():
            at = time.strftime("%H:%M:%S", time.localtime(line.at)) + f".{int(line.at * 1000) % 1000:03d}"
            self.frames.add_row(at, ARROWS.get(line.direction, "?"), line.hex, line.meaning)
        if self.frames.row_count:
            self.frames.scroll_end(animate=False)
