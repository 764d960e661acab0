"""Every word the counter terminal shows: in English here, in every other language in the
``counter`` catalogues (kiosk/locale/<lang>/LC_MESSAGES/counter.po).

The pattern of ``kiosk.ui.texts`` (the recipient's table): a frozen dataclass with one
field per phrase, one instance per language (English here, the others read from the
catalogues), so a phrase missing in a language fails at import. The shared widgets
(``Words``, ``SayButton``, ``Keypad``, ``LanguageToggle``) read ``language_name``,
``clear`` and ``ok`` from whichever table the app gives them, so those three are here too.

The reader is a clerk, not the public: the words say what to do with the parcel in front
of them first ("Do not hand it over"), then why. Polite and plain in every language (です・ます).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.i18n.catalogue import tables
from kiosk.languages import LANGUAGES as language_names
from kiosk.languages import every_language


@dataclass(frozen=True)
class CounterTexts:
    language_name: str
    clear: str
    ok: str

    # --- the frame ------------------------------------------------------------------
    title: str
    next_customer: str
    checking: str

    # --- what the desk has read -----------------------------------------------------
    read_heading: str
    tag: str
    label: str
    phone_code: str
    not_read: str
    tag_read: str                # {method}
    tag_read_number: str         # {method} {trade}
    label_read: str              # {trade}
    phone_code_read: str
    token: str
    token_read: str
    method_f1: str
    method_f2: str

    # --- the recipient's secret -----------------------------------------------------
    secret: str
    secret_hint: str
    label_field: str
    label_field_hint: str
    check: str

    # --- the next step --------------------------------------------------------------
    step_scan: str
    step_label: str
    step_tag: str
    step_secret: str
    step_check_phone: str
    step_card: str
    step_finger: str
    finger: str
    finger_none: str
    finger_wrong: str            # {n}
    finger_hint: str
    finger_poor: str
    finger_unavailable: str
    step_token: str
    need_token: str
    token_mismatch: str
    reconnecting: str
    out_of_service: str
    collect_card: str
    card_collected: str          # {card} {trade}
    card_collected_blank: str    # {card}
    card_pin: str
    card_removed: str
    card_blocked: str
    card_unusable: str

    # --- the verdict ----------------------------------------------------------------
    hand_over: str               # {trade}
    hand_over_hint: str
    take_cash: str               # {amount}: money due, taken by the clerk before the hand-over
    cash_received: str
    change_due: str              # {amount}
    cash_short: str              # {amount}
    confirm: str
    handed_over: str             # {trade}

    # --- why not --------------------------------------------------------------------
    do_not_hand_over: str
    forged: str
    swapped: str
    mismatch: str
    other_site: str
    unreadable: str
    wrong_secret: str            # {n}
    wrong_secret_last: str
    wrong_secret_plain: str
    locked_out: str
    slow_down: str               # {s}
    unknown_parcel: str          # {trade}
    not_arrived: str
    payment_due: str
    already_collected: str
    expired: str
    in_locker: str
    tags_not_set_up: str
    wrong_method: str
    need_label: str
    need_tag: str
    need_secret: str
    need_verification: str
    unexpected: str

    # --- parcels and lockers (kiosk.ui.counter.site_screen) --------------------------
    site_button: str
    take_in_button: str
    take_in_title: str
    take_in_prompt: str
    take_in_done: str
    take_in_count: str           # {n}
    col_outcome: str
    sign_in_title: str
    staff_code: str
    sign_in: str
    sign_in_refused: str
    signed_out: str
    site_title: str
    back: str
    reset_attempts: str
    acknowledge: str
    col_alarm: str
    col_when: str
    col_what: str
    done_ack: str
    no_alarms: str
    take_in: str
    extend_hold: str
    done_extend: str             # {trade}
    hand_over_in_person: str
    done_take_in: str            # {trade}
    done_hand_over: str          # {trade}
    mark_returned: str
    open_locker: str
    take_out: str
    back_in: str
    reason_placeholder: str
    store_line: str              # {n} {at}
    store_off: str
    today_line: str              # {arrived} {out} {expired} {returned}
    col_list: str
    col_trade: str
    col_state: str
    col_locker: str
    col_deadline: str
    col_method: str
    col_number: str
    col_door: str
    col_parcel: str
    action_failed: str           # {why}
    action_not_for_this: str
    reason_needed: str
    done_reset: str              # {trade}
    done_returned: str           # {trade}
    done_open: str               # {n}
    done_out: str                # {n}
    done_in: str                 # {n}


EN = CounterTexts(
    language_name="English",
    clear="Clear",
    ok="OK",
    title="Counter · parcel hand-over",
    next_customer="Next customer",
    checking="Checking…",
    read_heading="Read at this desk",
    tag="Tag",
    label="Label",
    phone_code="Phone code",
    not_read="—",
    tag_read="✓ {method}",
    tag_read_number="✓ {method} · {trade}",
    label_read="✓ {trade}",
    phone_code_read="✓ shown",
    token="Token",
    token_read="✓ read",
    method_f1="F1 tag",
    method_f2="F2 tag",
    secret="Recipient's secret",
    secret_hint="The recipient types it; it stays hidden. Enter or OK checks it.",
    label_field="Label will not scan? Type its number:",
    label_field_hint="Type the number printed on the label, then Enter.",
    check="Check",
    step_scan="Scan the tag and the label on the parcel.",
    step_label="Now scan the label (the trade number) on the parcel.",
    step_tag="This parcel carries a tag: scan it.",
    step_secret="Ask the recipient to type their secret, or to show the code on their phone.",
    step_check_phone="The phone code is read: press Check.",
    step_card="An IC-card parcel: put its card in the desk's reader, then the recipient types the card's PIN.",
    step_finger="A fingerprint parcel: the recipient places a finger on the sensor, then press Check.",
    finger="Fingerprint",
    finger_wrong="That finger does not match. The recipient can try {n} more times.",
    finger_hint="Nothing to type: Check (or Enter) matches the finger on the sensor.",
    finger_none="No finger was on the sensor. Ask the recipient to place it flat, then press Check.",
    finger_poor="The finger could not be read. Ask the recipient to wipe it and place it flat, then Check.",
    finger_unavailable="Fingerprints cannot be checked now (sensor or store). Do not hand the parcel over.",
    step_token="A token parcel: hold its token to the token reader, then the recipient types the secret.",
    need_token="This parcel travels with a token: hold it to the token reader first.",
    token_mismatch="WRONG TOKEN: the token read is not this parcel's. Keep the parcel aside and report it.",
    collect_card="Take back a used card",
    reconnecting="Reconnecting to the controller… what you do now is sent once it is back.",
    out_of_service="The controller is out of service (its storage): do not hand over; see the technician.",
    card_collected="Card {card} taken back for the store (its receipt: parcel {trade}).",
    card_collected_blank="Card {card} taken back for the store (it holds no receipt).",
    card_pin="Card PIN",
    card_removed="The card was taken out of the reader. Put it back and check the PIN again.",
    card_blocked="This card is blocked (too many wrong PINs): the store must reset it. Keep the parcel.",
    card_unusable="This card cannot be read here. Keep the parcel and report it.",
    hand_over="Hand over parcel {trade}",
    hand_over_hint="The recipient is verified. Give them the parcel, then press Confirm.",
    take_cash="{amount} to pay. Take the cash, type what you received, then press Confirm.",
    cash_received="Cash received:",
    change_due="Change to give: {amount}",
    cash_short="{amount} short: take the rest first.",
    confirm="Confirm hand-over",
    handed_over="Parcel {trade} handed over. Scan the next parcel.",
    do_not_hand_over="Do not hand over.",
    forged="FORGED TAG: the store did not make this tag. Keep the parcel aside and report it.",
    swapped="SWAPPED TAG: the tag belongs to another parcel than this label. Keep the parcel aside and report it.",
    mismatch="The tag and the label name different parcels. Check you scanned the same parcel.",
    other_site="This tag was made for another pickup point: the parcel is not for this counter.",
    unreadable="Could not read that code (damaged or not ours). Scan it again.",
    wrong_secret="Wrong secret. The recipient can try {n} more times.",
    wrong_secret_last="Wrong secret. The recipient can try 1 more time.",
    wrong_secret_plain="Wrong secret. The recipient can try again.",
    locked_out="LOCKED: too many wrong secrets for this parcel. Check the recipient's proof before a reset.",
    slow_down="Too many failures at this counter. Wait {s} seconds, then try again.",
    unknown_parcel="No parcel {trade} is waiting here. Check the label.",
    not_arrived="This parcel has not arrived here yet (receive it first).",
    payment_due="{amount} is due for this parcel. Take the payment, then hand it over as a clerk (payment confirmed).",
    already_collected="This parcel has already been collected.",
    expired="The holding period for this parcel has ended.",
    in_locker="This parcel is in a locker: the recipient collects it there.",
    tags_not_set_up="Parcel tags are not set up at this pickup point. Call a supervisor.",
    wrong_method="This parcel is not verified at the counter this way. Call a supervisor.",
    need_label="Scan the label (trade number) first.",
    need_tag="This parcel carries a tag: scan it first.",
    need_secret="The recipient's secret is needed.",
    need_verification="The check has expired or the desk read something new. Check the secret again.",
    unexpected="Something went wrong. Try again, or call a supervisor.",
    site_button="Parcels & lockers",
    take_in_button="Take in parcels",
    take_in_title="Take in parcels from the courier",
    take_in_prompt="Scan or type each parcel's label, then Enter. Each one then waits at the counter (the store is told).",
    take_in_done="✓ taken in",
    take_in_count="{n} taken in",
    col_outcome="Result",
    sign_in_title="Counter · sign in",
    staff_code="Your staff code",
    sign_in="Sign in",
    sign_in_refused="That code was not accepted. Type it again, or ask the site manager.",
    signed_out="You were signed out after a while without use. Sign in again.",
    site_title="Parcels and lockers",
    back="Back",
    reset_attempts="Reset attempts",
    acknowledge="Acknowledge alarm",
    col_alarm="Alarm",
    col_when="When",
    col_what="What",
    done_ack="Alarm acknowledged (recorded under your id).",
    no_alarms="No alarms.",
    take_in="Take in",
    extend_hold="Extend hold",
    done_extend="{trade} is kept longer: its deadline moved (the store is told).",
    hand_over_in_person="Hand over in person",
    done_take_in="{trade} taken in: it waits at the counter now (the store is told).",
    done_hand_over="{trade} handed over in person (recorded with your reason).",
    mark_returned="Mark returned",
    open_locker="Open to inspect",
    take_out="Take out of service",
    back_in="Back in service",
    reason_placeholder="Reason (hand-over in person, out of service)",
    store_line="Store link: {n} waiting · last sent {at}",
    store_off="Store link: not configured",
    today_line="Today: in {arrived} · out {out} · expired {expired} · returned {returned}",
    col_list="List",
    col_trade="Trade number",
    col_state="State",
    col_locker="Locker",
    col_deadline="Deadline",
    col_method="Method",
    col_number="Locker",
    col_door="Door",
    col_parcel="Parcel",
    action_failed="Not done: {why}",
    action_not_for_this="That action does not apply to the selected parcel.",
    reason_needed="Type the reason first: it is recorded with the action.",
    done_reset="Attempts reset for {trade} (recorded under your id). Check the recipient's proof.",
    done_returned="{trade} marked as returned to the store.",
    done_open="Locker {n} is opening for inspection (recorded).",
    done_out="Locker {n} is out of service (recorded with the reason).",
    done_in="Locker {n} is back in service.",
)

LANGUAGES: dict[str, CounterTexts] = every_language(tables(EN, "counter", language_names), __name__)
JA = LANGUAGES["ja"]   # the languages the tests name; the others by LANGUAGES[code]

Say = Callable[[CounterTexts], str]


def counter_texts_for(language: str) -> CounterTexts:
    """The counter's phrases for ``language`` (a code of ``LANGUAGES``). Raises KeyError for any other."""
    return LANGUAGES[language]
