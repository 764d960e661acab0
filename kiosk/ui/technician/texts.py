"""Every word the technician panel shows, in English and in Japanese (the pattern of
``kiosk.ui.counter.texts``: a phrase missing in either language fails at import)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.languages import every_language


@dataclass(frozen=True)
class TechnicianTexts:
    language_name: str
    clear: str
    ok: str
    title: str
    quit: str
    devices: str
    tasks: str
    lockers: str
    col_role: str
    col_device: str
    col_state: str
    col_detail: str
    col_task: str
    col_restarts: str
    col_last_error: str
    col_locker: str
    col_door: str
    col_fault: str
    up: str
    down: str
    running: str
    stopped: str
    storage_ok: str              # {free}
    storage_failing: str         # {why}
    store_line: str              # {pending} {age} {at}
    store_off: str
    pull_manifest: str
    pulled: str                  # {added} {cancelled}
    failed: str                  # {why}
    reconnecting: str
    out_of_service: str
    sign_in_title: str
    staff_code: str
    sign_in: str
    sign_in_refused: str       # also: the code is not a technician's
    signed_out: str
    back: str
    wire_hint: str
    wire_title: str            # {role}
    wire_summary: str          # {sent} {received} {noise} {last} {p50} {max}
    wire_not_kept: str         # {why}
    col_time: str
    col_bytes: str
    col_meaning: str


EN = TechnicianTexts(
    language_name="English",
    clear="Clear",
    ok="OK",
    title="Technician · site status",
    quit="Close",
    devices="Devices",
    tasks="Controller tasks",
    lockers="Lockers",
    col_role="Role",
    col_device="Device",
    col_state="State",
    col_detail="Detail",
    col_task="Task",
    col_restarts="Restarts",
    col_last_error="Last error",
    col_locker="Locker",
    col_door="Door",
    col_fault="Fault",
    up="up",
    down="DOWN",
    running="running",
    stopped="STOPPED",
    storage_ok="Database writable · {free} free",
    storage_failing="DATABASE NOT WRITABLE: {why}",
    store_line="Store link: {pending} events waiting (oldest {age}) · last sent {at}",
    store_off="Store link: not configured",
    pull_manifest="Pull manifest now",
    pulled="Manifest pulled: {added} new, {cancelled} cancelled.",
    failed="Not done: {why}",
    reconnecting="The controller is not answering; reconnecting…",
    out_of_service="The controller is out of service.",
    sign_in_title="Technician · sign in",
    staff_code="Your technician code",
    sign_in="Sign in",
    sign_in_refused="That code was not accepted here (a technician's code is needed). Type it again.",
    signed_out="You were signed out after a while without use. Sign in again.",
    back="Back",
    wire_hint="Enter on a device shows its line: every frame both ways, in hex, with its meaning.",
    wire_title="{role} · the line",
    wire_summary="Sent {sent} · received {received} · {noise} bytes of noise · round trip: last {last}, median {p50}, worst {max}",
    wire_not_kept="No line to show: {why}",
    col_time="Time",
    col_bytes="Bytes (hex)",
    col_meaning="Meaning",
)

JA = TechnicianTexts(
    language_name="日本語",
    clear="クリア",
    ok="OK",
    title="技術者・サイトの状態",
    quit="閉じる",
    devices="機器",
    tasks="制御プログラムのタスク",
    lockers="ロッカー",
    col_role="役割",
    col_device="機器",
    col_state="状態",
    col_detail="詳細",
    col_task="タスク",
    col_restarts="再起動",
    col_last_error="最後のエラー",
    col_locker="ロッカー",
    col_door="扉",
    col_fault="故障",
    up="正常",
    down="停止",
    running="動作中",
    stopped="停止",
    storage_ok="データベース書き込み可・空き {free}",
    storage_failing="データベースに書き込めません：{why}",
    store_line="お店との通信：未送信 {pending} 件（最古 {age}）・最終送信 {at}",
    store_off="お店との通信：未設定",
    pull_manifest="荷物一覧を今すぐ取得",
    pulled="荷物一覧を取得しました：新規 {added} 件、取消 {cancelled} 件。",
    failed="実行できませんでした：{why}",
    reconnecting="制御プログラムが応答しません。再接続しています…",
    out_of_service="制御プログラムは停止中です。",
    sign_in_title="技術者・サインイン",
    staff_code="技術者コード",
    sign_in="サインイン",
    sign_in_refused="このコードは受け付けられませんでした（技術者のコードが必要です）。もう一度入力してください。",
    signed_out="しばらく操作がなかったため、サインアウトしました。もう一度サインインしてください。",
    back="戻る",
    wire_hint="機器を選んでEnterを押すと、その通信（送受信の全フレームを16進数と意味で）を表示します。",
    wire_title="{role}・通信",
    wire_summary="送信 {sent}・受信 {received}・ノイズ {noise} バイト・往復時間：直近 {last}、中央値 {p50}、最大 {max}",
    wire_not_kept="表示する通信がありません：{why}",
    col_time="時刻",
    col_bytes="バイト（16進数）",
    col_meaning="意味",
)

LANGUAGES: dict[str, TechnicianTexts] = every_language({"en": EN, "ja": JA}, __name__)

Say = Callable[[TechnicianTexts], str]
