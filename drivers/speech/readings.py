"""How Japanese text is read, for a speech engine that knows only kana.

espeak-ng's Japanese voice reads hiragana and katakana but no kanji (it names each one a
"Chinese letter"). So kanji-kana text goes through MeCab's morphological analysis first —
fugashi with the UniDic dictionary (unidic-lite) — and each word is replaced by its
pronunciation in katakana (``pron``: 「荷物を受け取る」 -> 「ニモツオウケトル」, with the
particles as spoken). Words the dictionary does not know (numbers, Latin letters) stay as
written; the engine reads those itself.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.lru_cache(maxsize=1)
def _tagger() -> Any:
    import fugashi   # with unidic-lite's dictionary: its wheels carry it, nothing downloaded

    return fugashi.Tagger()


def japanese_reading(text: str) -> str:
    """``text`` with every word the dictionary knows written as it is pronounced, in katakana."""
    out = []
    for word in _tagger()(text):
        pron = getattr(word.feature, "pron", None)
        out.append(pron if pron and pron != "*" else word.surface)
        if word.white_space:
            out.insert(len(out) - 1, word.white_space)
    return "".join(out)
