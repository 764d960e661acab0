from kiosk.security import secrets as S

FAST = S.HashParams(memory_kib=1024, iterations=1, lanes=1)


def test_hash_carries_its_parameters_and_verifies():
    h = S.hash_secret("123456", FAST)
    assert h.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert S.verify_secret("123456", h)
    assert not S.verify_secret("123457", h)
    assert "123456" not in h


def test_salts_differ():
    assert S.hash_secret("123456", FAST) != S.hash_secret("123456", FAST)


def test_full_width_digits_match():
    h = S.hash_secret("123456", FAST)
    assert S.verify_secret("１２３４５６", h)
    assert S.verify_secret(" 123456 ", h)


def test_malformed_or_hostile_hashes_never_match():
    assert not S.verify_secret("x", "")
    assert not S.verify_secret("x", "garbage")
    assert not S.verify_secret("x", None)
    # A hash asking for 4 GiB of memory is refused before any work is done.
    hostile = "$argon2id$v=19$m=4194304,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    assert not S.is_valid_hash(hostile)
    assert not S.verify_secret("x", hostile)


def test_params_are_bounded():
    import pytest
    with pytest.raises(ValueError):
        S.HashParams(memory_kib=64)
    with pytest.raises(ValueError):
        S.HashParams(iterations=0)
