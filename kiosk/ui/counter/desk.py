"""What the counter screen knows about the desk: its reads, the verdict, what to do next.

The controller keeps the desk itself (kiosk.service.counter); the screen keeps this view of
it, fed from two places: the ``Presented`` a typed code returns, and the ``counter_read``
/ ``counter_rejected`` events a scanner's reads produce. It never holds a secret, only
whether a phone code was shown. ``DeskView`` is plain data so the rules can be tested
without a screen:

- any new read voids a verification not yet confirmed (the controller does the same), and
  clears the last hand-over's "done" line (a new customer has started);
- a refused tag leaves the desk without a tag (the controller drops it);
- the next step is the first thing still missing: tag and label, label, tag, secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.ui.counter.explain import MISMATCH, Refusal
from kiosk.ui.counter.texts import Say

TAG_METHODS = {"f1_tag": lambda t: t.method_f1, "f2_tag": lambda t: t.method_f2}


@dataclass
class Verified:
    """A hand-over waiting for the clerk's confirmation (from ``counter_verify``'s Ready)."""

    ticket: str
    trade_number: str


@dataclass
class DeskView:
    tag_method: str | None = None      # "f1_tag" / "f2_tag" once a tag is held
    tag_number: str | None = None      # the F1 tag's own (signed) trade number
    label: str | None = None           # the label's trade number, once read
    label_seen: bool = False           # a label was read (its number may be unknown: see apply_read)
    phone_code: bool = False           # a recipient's code is held (used once by the next check)
    mismatch: bool = False             # tag and label name different parcels
    verified: Verified | None = None
    refusal: Refusal | None = None
    done: str | None = None            # the trade number handed over last

    def reset(self) -> None:
        """Next customer: everything forgotten, as the controller's desk is."""
        self.__init__()

    def apply_read(self, read: str, method: str | None, trade_number: str | None, mismatch: bool,
                   label: str | None = None) -> None:
        """One accepted read (a ``counter_read`` event or a typed code's ``Presented``).
        ``label`` is the label's number when known (``Presented`` has it; the event has
        only the parcel's number, which is the F1 tag's once one is held)."""
        self.verified, self.refusal, self.done = None, None, None
        if read == "tag":
            self.tag_method = method
            self.tag_number = trade_number if method == "f1_tag" else None
            if self.tag_method == "f1_tag" and self.label is None and self.label_seen and not mismatch:
                self.label = trade_number
        elif read == "label":
            self.label_seen = True
            if label is not None:
                self.label = label
            elif self.tag_number is None or not mismatch:
                self.label = trade_number
            else:
                self.label = None      # an F1 tag is held and this label is not its parcel's
        elif read == "secret":
            self.phone_code = True
        if label is not None:
            self.label, self.label_seen = label, True
        self.mismatch = mismatch
        if mismatch:
            self.refusal = MISMATCH

    def apply_rejection(self, refusal: Refusal, *, tag_dropped: bool) -> None:
        """A read or a check was refused. A refused tag is no longer held."""
        self.verified, self.done = None, None
        self.refusal = refusal
        if tag_dropped:
            self.tag_method = self.tag_number = None
            self.mismatch = False

    def apply_verified(self, ticket: str, trade_number: str) -> None:
        self.verified, self.refusal, self.phone_code = Verified(ticket, trade_number), None, False

    def apply_done(self, trade_number: str) -> None:
        self.reset()
        self.done = trade_number

    # --- for the screen ---------------------------------------------------------------

    @property
    def has_reads(self) -> bool:
        return bool(self.tag_method or self.label_seen or self.phone_code)

    def next_step(self) -> Say:
        if self.tag_method is None and not self.label_seen:
            return lambda t: t.step_scan
        if not self.label_seen:
            return lambda t: t.step_label
        if self.phone_code:
            return lambda t: t.step_check_phone
        return lambda t: t.step_secret

    def tag_line(self) -> Say:
        if self.tag_method is None:
            return lambda t: t.not_read
        name = TAG_METHODS.get(self.tag_method, lambda t: self.tag_method or "")
        if self.tag_number:
            number = self.tag_number
            return lambda t: t.tag_read_number.format(method=name(t), trade=number)
        return lambda t: t.tag_read.format(method=name(t))

    def label_line(self) -> Say:
        if not self.label_seen:
            return lambda t: t.not_read
        label = self.label or "?"
        return lambda t: t.label_read.format(trade=label)

    def phone_line(self) -> Say:
        return (lambda t: t.phone_code_read) if self.phone_code else (lambda t: t.not_read)
