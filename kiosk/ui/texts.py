"""Every word the recipient screen shows, in English here and in every other language in
the ``recipient`` catalogues (kiosk/locale/<lang>/LC_MESSAGES/recipient.po).

``Texts`` is a frozen dataclass with one field per phrase, and each language is one
instance of it: ``EN`` is written below (the source of the catalogue's template, made by
``python -m kiosk.i18n extract``); the others are read from the compiled catalogues at
import, where a phrase missing in a language, or with other ``{placeholders}`` than the
English, is an error (kiosk.i18n.catalogue), never a blank on the screen. Phrases with
``{placeholders}`` are filled with ``str.format``.

Screens never hold a finished string: they hold a ``Say`` (``Texts -> str``), so a
message already on the screen follows the language toggle.

Style: short sentences, the action first, no jargon. Every language is polite (Japanese
です・ます, Korean 합니다/하세요; docs/translating.md).

**Staff.** Every message that sends a person to staff ends with ``staff`` (``with_staff``).
The tables here say only "Please see staff."; the app replaces ``staff`` with ``staff_at``
filled in with where and how to reach them at this site (``[ui.staff]`` in the config,
``UiSettings.staff_contact``): ``for_site``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kiosk.i18n.catalogue import tables
from kiosk.languages import LANGUAGES as language_names
from kiosk.languages import every_language


@dataclass(frozen=True)
class Texts:
    language_name: str   # shown on the toggle, in the language's own words

    # --- idle -----------------------------------------------------------------------
    welcome: str
    collect: str
    collect_hint: str
    scan_hint: str       # a recipient's code from their notice, held to the camera
    courier: str

    # --- common ---------------------------------------------------------------------
    cancel: str
    clear: str
    ok: str
    checking: str
    finish: str
    step: str                    # {n} of {total}
    staff: str                   # replaced per site by staff_at (see for_site)
    staff_at: str                # {where}: the site's [ui.staff] line
    idle_warning: str            # {s} seconds left before the screen clears

    # --- pickup entry ---------------------------------------------------------------
    pickup_title: str
    trade_number: str
    trade_number_prompt: str
    trade_number_hint: str
    secret: str
    secret_prompt: str
    secret_hint: str
    card_pin: str                # an IC-card parcel (F3): the card's PIN instead of a secret
    card_prompt: str
    card_hint: str
    trade_number_too_short: str
    secret_empty: str

    # --- what went wrong (pickup) ---------------------------------------------------
    wrong_secret: str            # {n} tries left
    wrong_secret_last: str       # one try left
    wrong_code: str              # no count known
    wrong_pin: str               # {n} tries left
    wrong_pin_last: str
    card_removed: str
    card_blocked: str
    card_unusable: str
    finger: str                  # a biometric parcel (F5): the finger on the sensor instead of a secret
    finger_prompt: str
    finger_hint: str
    finger_wrong: str            # {n} tries left
    finger_wrong_last: str
    finger_none: str
    finger_poor: str
    finger_unavailable: str
    card_required: str
    locked_out: str
    slow_down: str               # {s} seconds, counting down
    slow_down_one: str           # one second left
    slow_down_over: str
    unknown_parcel: str          # {trade}
    not_arrived: str
    payment_due: str
    already_collected: str
    expired: str
    at_counter: str
    door_busy: str
    not_collectable: str
    see_staff: str
    unexpected: str

    # --- door -----------------------------------------------------------------------
    door: str
    door_opening: str            # {n}
    wait_for_door: str           # {n}
    door_is_open: str            # {n}
    doors_are_open: str          # {doors}: several parcels, one visit
    take_all_and_close: str
    take_and_close: str
    put_and_close: str
    close_reminder: str          # {n}
    take_card: str
    reconnecting: str
    out_of_service: str

    # --- paying at the locker (cash) ------------------------------------------------
    pay_prompt: str              # {amount}: money due, paid here after the secret
    pay_title: str
    to_pay: str                  # {amount}
    inserted: str                # {amount}
    still_to_pay: str            # {amount}
    insert_money: str
    keep_longer: str             # the entry screen's button: extend the hold instead of opening
    kept_longer: str
    kept_until: str              # {date}
    not_extendable: str
    accepted_money: str          # {values}
    checking_note: str
    paying_change: str           # {amount}
    paid: str
    returning_money: str
    money_returned: str          # {amount}
    money_owed: str              # {amount}
    payment_cancelled: str
    still_inside: str            # {n}: the door was shut on the parcel
    open_again: str              # {n}
    open_again_hint: str
    still_inside_secret: str
    door_did_not_open: str
    parcel_is_safe: str

    # --- done -----------------------------------------------------------------------
    thank_you: str
    door_closed: str             # {n}
    returning: str

    # --- courier --------------------------------------------------------------------
    courier_title: str
    courier_code: str
    courier_code_prompt: str
    courier_code_hint: str
    courier_code_empty: str
    courier_code_wrong: str
    courier_session_over: str
    parcel_prompt: str
    parcel_hint: str
    deposit_unknown: str         # {trade}
    deposit_not_expected: str    # {trade}
    deposit_see_staff: str       # {trade}
    send_parcel: str
    send_title: str
    send_prompt: str
    send_hint: str
    dropoff_code: str
    dropoff_code_prompt: str
    already_dropped_off: str
    not_a_parcel_to_send: str
    unknown_parcel_to_send: str                # {trade}
    sent_on_its_way: str                # {n}
    round_button: str
    round_title: str
    round_why_send: str
    round_why_expired: str
    round_open_next: str
    round_door_open: str                # {n}
    round_to_do: str                # {k}
    round_done: str                # {k}
    round_empty: str
    round_not_opened: str                # {n} {why}
    no_locker_free: str
    no_fitting_door: str         # no free door is big enough for this parcel
    no_low_door: str             # its recipient needs a door they can reach; none is free
    deposit_door_fault: str      # {n}
    deposited: str               # {trade} {n}
    next_parcel: str


EN = Texts(
    language_name="English",
    welcome="Welcome",
    collect="Collect a parcel",
    collect_hint="Touch the screen or press any key to start",
    scan_hint="or hold the code from your notice to the camera",
    courier="Courier drop-off",
    cancel="Cancel",
    clear="Clear",
    ok="OK",
    checking="Checking…",
    finish="Finish",
    step="Step {n} of {total}",
    staff="Please see staff.",
    staff_at="Please see staff: {where}",
    idle_warning="Are you still there? This screen goes back to the start in {s} s. "
                 "Press any key or touch the screen to carry on.",
    pickup_title="Collect a parcel",
    trade_number="Trade number",
    trade_number_prompt="Enter your trade number",
    trade_number_hint="It is in your pickup notice, for example 1234-5678.",
    secret="Secret code",
    secret_prompt="Now enter your secret code",
    secret_hint="The code is hidden as you type it.",
    card_pin="Card PIN",
    card_prompt="Put the card that came with your parcel in the reader, then enter its PIN",
    card_hint="The card checks the PIN itself; it is hidden as you type it.",
    trade_number_too_short="Please enter the whole trade number (at least 4 characters).",
    secret_empty="Please enter your secret code.",
    wrong_secret="That secret code is not right. You can try {n} more times.",
    wrong_secret_last="That secret code is not right. You can try 1 more time.",
    wrong_pin="The card says the PIN is not right. You can try {n} more times.",
    wrong_pin_last="The card says the PIN is not right. You can try 1 more time.",
    card_removed="The card was taken out. Put it back in the reader and enter the PIN again.",
    card_blocked="This card is blocked after too many wrong PINs.",
    card_unusable="This card cannot be used here.",
    finger="Fingerprint",
    finger_prompt="Place your finger flat on the sensor, then press OK",
    finger_hint="Your finger is checked against the store's record and is not kept here.",
    finger_wrong="That finger does not match. You can try {n} more times.",
    finger_wrong_last="That finger does not match. You can try 1 more time.",
    finger_none="No finger was on the sensor. Place it flat and press OK.",
    finger_poor="The finger could not be read. Wipe it, place it flat and press OK.",
    finger_unavailable="Fingerprints cannot be checked right now.",
    card_required="This parcel opens with its card: enter the trade number again, then use the card.",
    wrong_code="That code is not right. Please try again.",
    locked_out="Too many wrong tries: this parcel is now locked.",
    slow_down="Too many wrong tries at this machine. Please wait {s} seconds, then try again.",
    slow_down_one="Too many wrong tries at this machine. Please wait 1 second, then try again.",
    slow_down_over="You can try again now.",
    unknown_parcel="No parcel with the number {trade} is waiting here. Please check the number.",
    not_arrived="This parcel has not arrived yet. Please come back later.",
    payment_due="There is {amount} to pay for this parcel. Please pay at the counter, where staff will hand it over.",
    already_collected="This parcel has already been collected.",
    expired="This parcel was kept for as long as allowed.",
    at_counter="This parcel is kept at the counter.",
    door_busy="The door for this parcel is already open.",
    not_collectable="This parcel cannot be collected now.",
    see_staff="This cannot be done at the machine.",
    unexpected="Something went wrong.",
    door="Door",
    door_opening="Opening door {n}…",
    wait_for_door="Please wait by door {n}: it opens in a moment.",
    door_is_open="Door {n} is open",
    doors_are_open="Doors {doors} are open",
    take_all_and_close="Your parcels are behind each of these doors. Take them all and close every door.",
    take_and_close="Take your parcel and close the door.",
    put_and_close="Put the parcel in and close the door.",
    close_reminder="Please close door {n}: push it until it clicks.",
    take_card="Take your card from the reader.",
    reconnecting="One moment: this screen is reconnecting to the locker controller…",
    out_of_service="This machine is out of service for now.",
    pay_prompt="There is {amount} to pay. Enter your secret code, then pay here in cash.",
    pay_title="Pay for your parcel",
    to_pay="To pay: {amount}",
    inserted="Inserted: {amount}",
    still_to_pay="Still to pay: {amount}",
    insert_money="Insert coins or notes in the payment slot. Change is given.",
    keep_longer="Keep it longer instead",
    kept_longer="Your parcel is kept longer",
    kept_until="It waits for you until {date}.",
    not_extendable="This parcel cannot be kept any longer. Please collect it now.",
    accepted_money="Taken here: {values}",
    checking_note="Checking your note…",
    paying_change="Paying your change: {amount}",
    paid="Paid. Thank you — your door is opening.",
    returning_money="Returning your money…",
    money_returned="Your {amount} has been returned. Take it from the tray.",
    money_owed="{amount} could not be returned by the machine.",
    payment_cancelled="Payment cancelled",
    still_inside="Your parcel is still in door {n}.",
    open_again="Open door {n} again",
    open_again_hint="Press the button: the door opens again. Take your parcel, then close the door.",
    still_inside_secret="To open the door again, enter your trade number and secret once more.",
    door_did_not_open="The door did not open.",
    parcel_is_safe="Your parcel is safe inside.",
    thank_you="Thank you",
    door_closed="Door {n} is closed. Have a nice day.",
    returning="This screen goes back to the start in a few seconds.",
    courier_title="Courier drop-off",
    courier_code="Courier code",
    courier_code_prompt="Enter your courier code",
    courier_code_hint="The code is hidden as you type it.",
    courier_code_empty="Please enter your courier code.",
    courier_code_wrong="That courier code is not valid.",
    courier_session_over="Your drop-off session has ended. Enter the courier code again.",
    parcel_prompt="Enter the trade number on the parcel",
    parcel_hint="It is on the parcel's label, for example 1234-5678.",
    deposit_unknown="{trade} is not expected at this pickup point. Please check the label.",
    deposit_not_expected="{trade} has already been delivered or is no longer expected here.",
    deposit_see_staff="{trade} cannot go into a locker. Please take it to the counter.",
    send_parcel='Send a parcel',
    send_title='Send a parcel',
    send_prompt="Enter the parcel's trade number",
    send_hint='It is on the drop-off notice the store sent you.',
    dropoff_code='Drop-off code',
    dropoff_code_prompt='Now enter your drop-off code',
    already_dropped_off='This parcel is already in a locker. A courier collects it.',
    not_a_parcel_to_send='This number is for a parcel to collect, not to send. Choose Collect a parcel.',
    unknown_parcel_to_send='There is no parcel to send with the number {trade} here. Check the number.',
    sent_on_its_way='Your parcel is in door {n}. A courier collects it from there.',
    round_button='Collection round',
    round_title='Collection round',
    round_why_send='a parcel to send',
    round_why_expired='not collected in time',
    round_open_next='Open the next door',
    round_door_open='Door {n} is open: take the parcel and close the door.',
    round_to_do='Doors to empty: {k}.',
    round_done='Round done. Parcels taken: {k}.',
    round_empty='Nothing to collect here now.',
    round_not_opened='Door {n} could not be opened: {why}',
    no_locker_free="No locker is free. Please take the parcel to the counter.",
    no_fitting_door="No free door is big enough for this parcel. Please take it to the counter.",
    no_low_door="This parcel's recipient needs a low door, and none is free. Please take it to the counter.",
    deposit_door_fault="Door {n} did not open. Enter the number again to use another locker.",
    deposited="{trade} is in door {n}.",
    next_parcel="Next parcel",
)

LANGUAGES: dict[str, Texts] = every_language(tables(EN, "recipient", language_names), __name__)
"""Every listed language's table (kiosk.languages), English first."""
JA = LANGUAGES["ja"]   # the languages the tests name; the others by LANGUAGES[code]

Say = Callable[[Texts], str]
"""A phrase not yet put into a language: ``lambda t: t.door_is_open.format(n=3)``."""


def texts_for(language: str) -> Texts:
    """The phrases for ``language`` (a code of ``LANGUAGES``). Raises KeyError for any other."""
    return LANGUAGES[language]


def for_site(staff_contact: Mapping[str, str]) -> dict[str, Texts]:
    """Every language's table with ``staff`` naming where and how to reach staff here
    (``staff_contact``: language -> the site's line; a language without one keeps the plain
    "Please see staff.")."""
    return {code: dataclasses.replace(table, staff=table.staff_at.format(where=staff_contact[code].strip()))
            if staff_contact.get(code, "").strip() else table
            for code, table in LANGUAGES.items()}


def join(*sentences: str) -> str:
    """Sentences one after the other: a space after a Latin full stop, none after "。"."""
    out = ""
    for sentence in sentences:
        if out and sentence:
            out += "" if out.endswith(("。", "！", "？", "）")) else " "
        out += sentence
    return out


def with_staff(phrase: Say) -> Say:
    """``phrase`` followed by where and how to reach staff."""
    return lambda t: join(phrase(t), t.staff)
