"""The cash report (issue 13): what the payment slot took and gave back over a period,
per trade number, reconciled two ways, and what each cash box should hold when emptied.

Two independent records exist of every coin and note: the payment rows (the books,
``kiosk.storage.payments``) and the audit log's ``cash_credited`` entries, one per
credit event the acceptor or validator reported (written in the same transaction as
the credit it caused). The report checks, for every payment in the period:

- the books balance: ``credited == kept + paid_back + owed`` once the payment ended;
- the books match the devices: ``credited`` is the sum of that payment's credit events.

Money taken with no payment to give it to (``cash_unattributed``) is listed apart: it
is owed to someone a clerk must find. A cash box report splits the validator's stacked
notes at every "stacker removed" the validator reported: what each box emptied held.

Read-only: it works on a database opened read-only while kioskd runs (``kiosk
cash-report``). Amounts are integers in minor units; no name or secret is in it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from kiosk.clock import iso
from kiosk.domain.payments import FINAL, Payment, balanced
from kiosk.storage import payments as store
from kiosk.storage.database import Reader

STACKER_REMOVED = 11   # ccTalk bill validator status "stacker removed" (drivers/cash/cctalk_codec.py)


@dataclass(frozen=True)
class PaymentLine:
    payment_id: str
    trade_number: str
    state: str
    started_at: float
    amount_due: int
    credited: int           # the books
    counted: int            # the credit events the devices reported for it
    kept: int
    paid_back: int
    owed: int
    denominations: dict[str, int]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class CashBox:
    """The notes stacked between two removals of the validator's cash box."""

    emptied_at: float | None      # None: the box in the machine now
    notes: dict[str, int]
    amount: int


@dataclass(frozen=True)
class CashReport:
    since: float | None
    until: float | None
    payments: list[PaymentLine]
    taken: int                    # every credit in the period (books)
    kept: int                     # amounts due of completed payments
    paid_back: int                # change and refunds the hoppers paid
    owed: int                     # what the machine could not pay back: a clerk owes it
    unfinished: int               # payments still under way
    unattributed: int             # money taken with no payment to give it to
    by_denomination: dict[str, int]
    cash_boxes: list[CashBox]
    problems: list[str] = field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        return not self.problems


def build(db: Reader, since: float | None = None, until: float | None = None) -> CashReport:
    """The report for payments started in ``[since, until)`` (all when None)."""
    def within(t: float) -> bool:
        return (since is None or t >= since) and (until is None or t < until)

    counted: Counter[str] = Counter()
    for entry in db.audit_entries("cash_credited"):
        counted[entry["detail"].get("payment_id", "")] += int(entry["detail"].get("amount", 0))
    lines = [_line(p, counted[p.payment_id]) for p in store.payments(db) if within(p.started_at)]
    unattributed = sum(int(e["detail"].get("amount", 0)) for e in db.audit_entries("cash_unattributed")
                       if within(e["at"]))
    by_denomination: Counter[str] = Counter()
    for line in lines:
        by_denomination.update(line.denominations)
    problems = [f"{line.trade_number} ({line.payment_id}): {p}" for line in lines for p in line.problems]
    if unattributed:
        problems.append(f"{unattributed} taken with no payment under way: a clerk owes it back")
    return CashReport(
        since=since, until=until, payments=lines,
        taken=sum(line.credited for line in lines), kept=sum(line.kept for line in lines),
        paid_back=sum(line.paid_back for line in lines), owed=sum(line.owed for line in lines),
        unfinished=sum(1 for line in lines if line.state not in FINAL), unattributed=unattributed,
        by_denomination=dict(sorted(by_denomination.items())), cash_boxes=cash_boxes(db), problems=problems)


def _line(p: Payment, counted: int) -> PaymentLine:
    problems = []
    if p.state in FINAL and not balanced(p):
        problems.append(f"the books do not balance: credited {p.credited} != kept {p.kept} + paid back "
                        f"{p.paid_back} + owed {p.owed}")
    if counted != p.credited:
        problems.append(f"the books say {p.credited} was taken, the devices reported {counted}")
    if p.owed:
        problems.append(f"{p.owed} owed back to the recipient (the hoppers could not pay it)")
    return PaymentLine(p.payment_id, p.trade_number, p.state.value, p.started_at, p.amount_due, p.credited, counted,
                       p.kept, p.paid_back, p.owed, dict(p.denominations), tuple(problems))


def cash_boxes(db: Reader) -> list[CashBox]:
    """The validator's stacked notes, box by box: one entry per removal, then the box in place."""
    events = [(e["seq"], e["at"], "credit", e["detail"]) for e in db.audit_entries("cash_credited")
              if e["detail"].get("device") == "validator"]
    events += [(e["seq"], e["at"], "removed", e["detail"]) for e in db.audit_entries("cash_fault")
               if e["detail"].get("device") == "validator" and e["detail"].get("code") == STACKER_REMOVED]
    boxes: list[CashBox] = []
    notes: Counter[str] = Counter()
    amount = 0
    for _, at, what, detail in sorted(events, key=lambda e: e[0]):
        if what == "removed":
            boxes.append(CashBox(at, dict(sorted(notes.items())), amount))
            notes, amount = Counter(), 0
        else:
            notes[str(detail.get("denomination", "?"))] += 1
            amount += int(detail.get("amount", 0))
    boxes.append(CashBox(None, dict(sorted(notes.items())), amount))
    return boxes


def as_text(report: CashReport, money=lambda amount: f"{amount:,}") -> str:
    """The report for a person: one line per payment, the totals, the cash boxes, problems."""
    out = [f"{len(report.payments)} payment(s), {report.unfinished} still under way"]
    for line in report.payments:
        mark = "  !" if line.problems else "   "
        out.append(f"{mark} {line.trade_number}  {line.state:<11} due {money(line.amount_due):>8}  taken "
                   f"{money(line.credited):>8}  back {money(line.paid_back):>8}  owed {money(line.owed):>6}")
    out.append(f"taken {money(report.taken)} = kept {money(report.kept)} + paid back {money(report.paid_back)}"
               f" + owed {money(report.owed)}" + (" + under way" if report.unfinished else ""))
    if report.by_denomination:
        out.append("by coin and note: " + ", ".join(f"{k} × {v}" for k, v in report.by_denomination.items()))
    for box in report.cash_boxes:
        when = "in the machine now" if box.emptied_at is None else f"removed at {iso(box.emptied_at)}"
        notes = ", ".join(f"{k} × {v}" for k, v in box.notes.items()) or "no notes"
        out.append(f"cash box {when}: {money(box.amount)} ({notes})")
    out += [f"PROBLEM: {p}" for p in report.problems] or ["reconciled: the books match the devices"]
    return "\n".join(out)
