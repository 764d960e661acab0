"""Fuzzing the tag decoder: more than 10,000 random and mutated payloads, no crash (only
the project's TagError family comes out) and no acceptance (nothing but an untouched
genuine tag ever reads as one)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.errors import TagError
from kiosk.security import tags

RANDOM_EXAMPLES = 5000
MUTATED_EXAMPLES = 6000
def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _refused(payload, keys) -> None:
    try:
        tags.read(payload, keys)
    except TagError:
        return
    pytest.fail(f"accepted a payload that is not a genuine tag: {payload!r}")


payloads = st.one_of(
    st.binary(max_size=1200),
    st.text(max_size=600),
    st.text(alphabet="0123456789", min_size=200, max_size=420),
    st.text(alphabet="0123456789 \r\n\t", max_size=420),
    st.integers(min_value=1, max_value=1 << 1300).map(str),
)


@pytest.mark.slow
def test_random_payloads(keys):
    seen = []

    @fuzz(RANDOM_EXAMPLES)
    @given(payloads)
    def run(payload):
        seen.append(1)
        _refused(payload, keys)

    run()
    assert len(seen) >= RANDOM_EXAMPLES


def _with_check_digits(number: str) -> str:
    """Re-add valid check digits, so the mutation gets past them to the structure and signature."""
    number = number.lstrip("0") or "1"
    return number + tags._check_digits(number)


mutations = st.one_of(
    st.tuples(st.just("digit"), st.integers(0, 400), st.sampled_from("0123456789"), st.booleans()),
    st.tuples(st.just("insert"), st.integers(0, 400), st.text("0123456789", min_size=1, max_size=5), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 400), st.integers(1, 40), st.booleans()),
    st.tuples(st.just("swap"), st.integers(0, 400), st.just(""), st.booleans()),
    st.tuples(st.just("byte"), st.integers(0, 160), st.integers(1, 255), st.just(True)),
    st.tuples(st.just("splice"), st.integers(0, 160), st.binary(min_size=1, max_size=20), st.just(True)),
    st.tuples(st.just("cut"), st.integers(1, 160), st.just(""), st.just(True)),
)


def _mutate(text: str, op) -> str | bytes:
    kind, at, arg, recheck = op
    if kind in ("byte", "splice", "cut"):
        raw = bytearray(tags.decode_text(text))
        at %= len(raw)
        if kind == "byte":
            raw[at] ^= arg
        elif kind == "splice":
            raw[at:at + len(arg)] = arg
        else:
            raw = raw[:max(1, at)]
        if raw[0] == 0:
            raw[0] = 1
        return tags.encode_text(bytes(raw))
    number = text[:-2]
    at %= len(number)
    if kind == "digit":
        number = number[:at] + arg + number[at + 1:]
    elif kind == "insert":
        number = number[:at] + arg + number[at:]
    elif kind == "delete":
        number = number[:at] + number[at + arg:]
    else:
        number = number[:at] + number[at + 1:at + 2] + number[at:at + 1] + number[at + 2:]
    return _with_check_digits(number) if recheck else number + text[-2:]


@pytest.mark.slow
def test_mutated_tags(keys, f1, f2):
    seen = []
    genuine = {tags.decode_text(f1), tags.decode_text(f2)}

    @fuzz(MUTATED_EXAMPLES)
    @given(st.sampled_from([f1, f2]), mutations)
    def run(text, op):
        seen.append(1)
        mutated = _mutate(text, op)
        try:
            unchanged = tags.decode_text(mutated) in genuine
        except TagError:
            unchanged = False
        if unchanged:
            tags.read(mutated, keys)   # still the genuine tag: it must still read
        else:
            _refused(mutated, keys)

    run()
    assert len(seen) >= MUTATED_EXAMPLES
