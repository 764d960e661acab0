"""What one ccTalk event-buffer result (A, B) means, as a CashEvent. No I/O, no state.

Coin acceptors (229): A = the coin position credited, or 0 with B an error code.
Bill validators (159): A = the bill type with B 0 (stacked: credit) or 1 (held in escrow),
or A = 0 with B a status code (returned, rejected, fraud, stacker and jam reports).
"""

from __future__ import annotations

from drivers.cash import cctalk_codec as codec
from kiosk.devices.roles import CashEvent, CashEventKind

COIN_REJECTED = frozenset({1, 2, 254})     # reject coin, inhibited coin, coin return lever
BILL_REJECTED = frozenset({0, 2, 3, 4, 5})  # master inhibit, invalid, inhibited
COIN_INHIBITED, BILL_INHIBITED = frozenset({2}), frozenset({0, 4})


def to_event(role: str, values: dict[int, tuple[str, int]], a: int, b: int, counter: int,
             now: float) -> CashEvent | None:
    """The event for result (A, B) of ``role`` ("acceptor" or "validator"); ``values`` maps a
    position to its (id, value). None for the acceptor's null event."""
    if a:
        ident, value = values.get(a, (f"position {a}", 0))
        kind = CashEventKind.ESCROW if role == "validator" and b == codec.BILL_ESCROW else CashEventKind.CREDIT
        return CashEvent(kind, role, value, ident, counter, monotonic=now)
    if role == "acceptor":
        if b == 0:
            return None
        kind = (CashEventKind.FRAUD if b in codec.COIN_FRAUD_CODES else
                CashEventKind.REJECTED if b in COIN_REJECTED else CashEventKind.FAULT)
        return CashEvent(kind, role, counter=counter, code=b, detail=codec.COIN_ERRORS.get(b, f"error {b}"),
                         monotonic=now)
    kind = (CashEventKind.RETURNED if b == codec.BILL_RETURNED else
            CashEventKind.FRAUD if b in codec.BILL_FRAUD_CODES else
            CashEventKind.REJECTED if b in BILL_REJECTED else CashEventKind.FAULT)
    return CashEvent(kind, role, counter=counter, code=b, detail=codec.BILL_STATUS.get(b, f"status {b}"),
                     monotonic=now)


def refused_as_inhibited(event: CashEvent) -> bool:
    """A coin or note refused because the device is inhibited (after a silent power cut)."""
    if event.kind is not CashEventKind.REJECTED:
        return False
    return event.code in (COIN_INHIBITED if event.device == "acceptor" else BILL_INHIBITED)
