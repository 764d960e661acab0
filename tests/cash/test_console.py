"""`hwsim cash`: the console plays the customer while the real driver is on its pty."""

from __future__ import annotations

import io
import re

from drivers.cash.cctalk import CashDevicesCcTalk
from hwsim.cash.console import console_main
from hwsim.cli import main as hwsim_main
from kiosk.devices.roles import CashEventKind as K, PayoutStatus
from tests.cash.conftest import Events


def test_console_with_the_real_driver_on_its_port():
    out = io.StringIO()
    seen: dict = {}

    def script():
        port = re.search(r"port: (\S+)", out.getvalue()).group(1)
        events = Events()
        cash = CashDevicesCcTalk(port, poll_ms=10)
        cash.subscribe(events)
        cash.open()
        try:
            cash.accept(True)
            yield "coin 500\n"
            events.wait_for(K.CREDIT, 1)
            yield "note 1000\n"
            events.wait_for(K.ESCROW, 1)
            cash.accept_escrow()
            events.wait_for(K.CREDIT, 2)
            yield "string 100\n"
            events.wait_for(K.FRAUD, 1)
            yield "hopper jam 1\n"
            seen["payout"] = cash.payout(300)
            yield "garbage 01 C8 02\n"
            yield "counterfeit coin\n"
            events.wait_for(K.REJECTED, 1, "acceptor")
            yield "bogus\n"
            yield "status\n"
            seen["credits"] = [e.amount for e in events.of(K.CREDIT)]
        finally:
            cash.close()
        yield "quit\n"

    assert console_main(["--hopper-coins", "5"], stdin=script(), stdout=out) == 0
    text = out.getvalue()
    assert seen["credits"] == [500, 1000, 100]
    assert seen["payout"].status is PayoutStatus.JAMMED and seen["payout"].paid == 100
    assert "coin 500: accepted" in text and "note 1000: escrow" in text
    assert "error: unknown command 'bogus'" in text
    assert "stacked=1000" in text and "paid_out=1" in text
    assert "garbage" in text and "01 C8 02" in text  # the history printed as it happened


def test_hwsim_cash_is_a_subcommand(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("quit\n"))
    assert hwsim_main(["cash", "--no-echo"]) == 0
    assert "echo=0" in capsys.readouterr().out


def test_console_refuses_a_bad_coin():
    out = io.StringIO()
    assert console_main(["--hopper-coin", "yen"], stdin=io.StringIO(""), stdout=out) == 2
