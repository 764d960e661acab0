"""The names the clerk's "Parcels and lockers" screen gives to lists, states and methods,
per language (the phrases themselves are in ``kiosk.ui.counter.texts``). A test keeps
every language's tables complete against the domain's values."""

from __future__ import annotations

LIST_NAMES = {
    "en": {"locked_out": "Locked out", "expired": "Expired", "forgotten": "Forgotten",
           "nearing_expiry": "Nearing expiry", "waiting": "Waiting"},
    "ja": {"locked_out": "ロック中", "expired": "期限切れ", "forgotten": "受け取り忘れ",
           "nearing_expiry": "期限間近", "waiting": "保管中"},
}
PARCEL_STATES = {
    "en": {"expected": "expected", "arrived": "arrived", "expired": "expired", "collected": "collected",
           "returned": "returned"},
    "ja": {"expected": "到着予定", "arrived": "保管中", "expired": "期限切れ", "collected": "引き渡し済み",
           "returned": "返送済み"},
}
LOCKER_STATES = {
    "en": {"free": "free", "loading": "loading", "occupied": "occupied", "unloading": "opening",
           "fault": "FAULT", "out_of_service": "out of service"},
    "ja": {"free": "空き", "loading": "投函中", "occupied": "使用中", "unloading": "開扉中",
           "fault": "故障", "out_of_service": "使用停止"},
}
DOOR_STATES = {
    "en": {"open": "open", "closed": "closed", "unknown": "unknown"},
    "ja": {"open": "開", "closed": "閉", "unknown": "不明"},
}
ALARMS = {
    "en": {"tamper": "Tamper", "door_left_open": "Door left open", "door_fault": "Door fault",
           "site_attempts_alarm": "Many wrong codes", "event_rejected": "Store refused an event",
           "device_health": "Device problem"},
    "ja": {"tamper": "不正操作", "door_left_open": "扉の開けっ放し", "door_fault": "扉の故障",
           "site_attempts_alarm": "誤入力の多発", "event_rejected": "お店が受け付けなかった記録",
           "device_health": "機器の不具合"},
}
METHODS = {
    "en": {"secret": "secret", "locker": "locker code", "f1_tag": "F1 tag", "f2_tag": "F2 tag", "ic_card": "IC card",
           "token": "token", "biometric": "fingerprint"},
    "ja": {"secret": "暗証番号", "locker": "ロッカー番号", "f1_tag": "F1タグ", "f2_tag": "F2タグ", "ic_card": "ICカード",
           "token": "トークン", "biometric": "指紋"},
}


def name(table: dict[str, dict[str, str]], language: str, value: str) -> str:
    return table.get(language, table["en"]).get(value, value)
