"""Every word the counter terminal shows, in English and in Japanese.

The same pattern as ``kiosk.ui.texts`` (the recipient screen's table): a frozen dataclass
with one field per phrase and one instance per language, so a phrase missing in either
language fails at import. The shared widgets (``Words``, ``SayButton``, ``Keypad``,
``LanguageToggle``) read ``language_name``, ``clear`` and ``ok`` from whichever table the
app gives them, so those three are here too.

The reader is a clerk, not the public: the words say what to do with the parcel in front
of them first ("Do not hand it over"), then why. Japanese is polite and plain (です・ます).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

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

JA = CounterTexts(
    language_name="日本語",
    clear="クリア",
    ok="OK",
    title="カウンター・荷物の引き渡し",
    next_customer="次のお客様",
    checking="確認しています…",
    read_heading="読み取り済み",
    tag="タグ",
    label="伝票",
    phone_code="スマホのコード",
    not_read="—",
    tag_read="✓ {method}",
    tag_read_number="✓ {method}・{trade}",
    label_read="✓ {trade}",
    phone_code_read="✓ 提示済み",
    token="トークン",
    token_read="✓ 読み取り済み",
    method_f1="F1タグ",
    method_f2="F2タグ",
    secret="お客様の暗証番号",
    secret_hint="お客様に入力していただきます（表示されません）。Enter または OK で確認します。",
    label_field="伝票が読めない場合は番号を入力：",
    label_field_hint="伝票に印字された番号を入力し、Enter を押してください。",
    check="確認",
    step_scan="荷物のタグと伝票をスキャンしてください。",
    step_label="次に荷物の伝票（取引番号）をスキャンしてください。",
    step_tag="この荷物にはタグが付いています。タグをスキャンしてください。",
    step_secret="お客様に暗証番号を入力していただくか、スマホのコードを提示していただいてください。",
    step_check_phone="スマホのコードを読み取りました。「確認」を押してください。",
    step_card="ICカードの荷物です。カードを窓口のリーダーに入れ、お客様にカードの暗証番号を入力してもらってください。",
    step_finger="指紋の荷物です。お客様に指をセンサーに置いてもらい、「確認」を押してください。",
    finger="指紋",
    finger_wrong="指紋が一致しません。あと{n}回試せます。",
    finger_hint="入力は不要です。「確認」（または Enter）でセンサー上の指紋を照合します。",
    finger_none="センサーに指がありません。指を平らに置いてもらい、「確認」を押してください。",
    finger_poor="指紋を読み取れませんでした。指を拭いて平らに置いてもらい、「確認」を押してください。",
    finger_unavailable="ただいま指紋を確認できません（センサーまたはお店）。荷物を渡さないでください。",
    step_token="トークン付きの荷物です。トークンをトークンリーダーにかざし、お客様に暗証番号を入力してもらってください。",
    need_token="この荷物にはトークンが付いています。先にトークンをトークンリーダーにかざしてください。",
    token_mismatch="トークン不一致：読み取ったトークンはこの荷物のものではありません。荷物を別に保管し、報告してください。",
    collect_card="使用済みカードの回収",
    reconnecting="制御装置に再接続しています…操作は接続が戻りしだい送信されます。",
    out_of_service="制御装置が停止中です（記憶装置の障害）。荷物はお渡しせず、技術担当者に連絡してください。",
    card_collected="カード {card} を本部への返却用に回収しました（受領記録：荷物 {trade}）。",
    card_collected_blank="カード {card} を本部への返却用に回収しました（受領記録なし）。",
    card_pin="カードの暗証番号",
    card_removed="カードがリーダーから抜かれました。カードを戻して、暗証番号をもう一度確認してください。",
    card_blocked="このカードはロックされています（暗証番号の誤りが続いたため）。本部での解除が必要です。荷物はお渡ししないでください。",
    card_unusable="このカードはここでは読み取れません。荷物はお渡しせず、報告してください。",
    hand_over="荷物 {trade} をお渡しください",
    hand_over_hint="ご本人の確認ができました。荷物をお渡しして「引き渡し確定」を押してください。",
    take_cash="お支払い {amount} です。現金を受け取り、受け取った金額を入力して「引き渡し確定」を押してください。",
    cash_received="お預かり金額：",
    change_due="お釣り：{amount}",
    cash_short="{amount} 足りません。残りを受け取ってください。",
    confirm="引き渡し確定",
    handed_over="荷物 {trade} の引き渡しが完了しました。次の荷物をスキャンしてください。",
    do_not_hand_over="お渡ししないでください。",
    forged="偽造タグ：店舗が発行したタグではありません。荷物を別に保管し、報告してください。",
    swapped="タグの貼り替え：この伝票とは別の荷物のタグです。荷物を別に保管し、報告してください。",
    mismatch="タグと伝票の荷物が一致しません。同じ荷物をスキャンしたかご確認ください。",
    other_site="別の受け取り場所のタグです。このカウンターの荷物ではありません。",
    unreadable="コードを読み取れませんでした（破損または対象外のコード）。もう一度スキャンしてください。",
    wrong_secret="暗証番号が違います。あと{n}回入力できます。",
    wrong_secret_last="暗証番号が違います。あと1回入力できます。",
    wrong_secret_plain="暗証番号が違います。もう一度入力していただいてください。",
    locked_out="ロック中：暗証番号の誤りが多すぎます。解除の前にご本人確認書類をご確認ください。",
    slow_down="このカウンターで誤りが続いています。{s}秒待ってから、もう一度お試しください。",
    unknown_parcel="取引番号 {trade} の荷物はここにはありません。伝票をご確認ください。",
    not_arrived="この荷物はまだ到着していません（先に受け入れをしてください）。",
    payment_due="この荷物は{amount}のお支払いが必要です。代金を受け取ってから、係員の引き渡し（支払い確認）で渡してください。",
    already_collected="この荷物はすでに引き渡し済みです。",
    expired="この荷物は保管期限を過ぎています。",
    in_locker="この荷物はロッカーに入っています。お客様にロッカーで受け取っていただいてください。",
    tags_not_set_up="この受け取り場所ではタグが設定されていません。責任者を呼んでください。",
    wrong_method="この荷物はこの方法ではカウンターで確認できません。責任者を呼んでください。",
    need_label="先に伝票（取引番号）をスキャンしてください。",
    need_tag="この荷物にはタグが付いています。先にタグをスキャンしてください。",
    need_secret="お客様の暗証番号が必要です。",
    need_verification="確認の有効期限が切れたか、新しい読み取りがありました。もう一度確認してください。",
    unexpected="エラーが発生しました。もう一度お試しいただくか、責任者を呼んでください。",
    site_button="荷物とロッカー",
    take_in_button="荷物の受け入れ",
    take_in_title="配達員からの荷物の受け入れ",
    take_in_prompt="荷物のラベルを1つずつ読み取るか入力して、Enterを押してください。受け入れた荷物はカウンターで保管します（お店に通知されます）。",
    take_in_done="✓ 受け入れ済み",
    take_in_count="受け入れ {n} 件",
    col_outcome="結果",
    sign_in_title="カウンター・サインイン",
    staff_code="係員コード",
    sign_in="サインイン",
    sign_in_refused="コードが受け付けられませんでした。もう一度入力するか、責任者にお問い合わせください。",
    signed_out="しばらく操作がなかったため、サインアウトしました。もう一度サインインしてください。",
    site_title="荷物とロッカー",
    back="戻る",
    reset_attempts="試行回数のリセット",
    acknowledge="警報を確認済みにする",
    col_alarm="警報",
    col_when="日時",
    col_what="内容",
    done_ack="警報を確認済みにしました（あなたのIDで記録）。",
    no_alarms="警報はありません。",
    take_in="受け入れ",
    extend_hold="保管延長",
    done_extend="{trade} の保管期限を延長しました（お店に通知済み）。",
    hand_over_in_person="手渡し",
    done_take_in="{trade} を受け入れました。カウンターで保管中です（お店に通知済み）。",
    done_hand_over="{trade} を手渡ししました（理由とともに記録）。",
    mark_returned="返送済みにする",
    open_locker="点検のため開ける",
    take_out="使用停止",
    back_in="使用再開",
    reason_placeholder="理由（手渡し・使用停止には必須）",
    store_line="お店との通信：未送信 {n} 件・最終送信 {at}",
    store_off="お店との通信：未設定",
    today_line="本日：入荷 {arrived}・引き渡し {out}・期限切れ {expired}・返送 {returned}",
    col_list="区分",
    col_trade="取引番号",
    col_state="状態",
    col_locker="ロッカー",
    col_deadline="保管期限",
    col_method="確認方法",
    col_number="ロッカー",
    col_door="扉",
    col_parcel="荷物",
    action_failed="実行できませんでした：{why}",
    action_not_for_this="選択した荷物にはこの操作はできません。",
    reason_needed="先に理由を入力してください。操作とともに記録されます。",
    done_reset="{trade} の試行回数をリセットしました（あなたのIDで記録）。ご本人の確認をしてください。",
    done_returned="{trade} をお店への返送済みにしました。",
    done_open="ロッカー {n} を点検のため開けています（記録済み）。",
    done_out="ロッカー {n} を使用停止にしました（理由とともに記録）。",
    done_in="ロッカー {n} の使用を再開しました。",
)

LANGUAGES: dict[str, CounterTexts] = every_language({"en": EN, "ja": JA}, __name__)

Say = Callable[[CounterTexts], str]


def counter_texts_for(language: str) -> CounterTexts:
    """The counter's phrases for ``language`` ("en" or "ja"). Raises KeyError for any other."""
    return LANGUAGES[language]
