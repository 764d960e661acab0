import os
import stat

import pytest

from kiosk.errors import KeyFileError
from kiosk.security import keys


def test_site_key_is_made_once_with_owner_only_permissions(tmp_path):
    path = tmp_path / "keys" / "site.pem"
    key = keys.load_or_create_site_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = keys.load_or_create_site_key(path)
    assert keys.public_key_text(key.public_key()) == keys.public_key_text(again.public_key())


def test_a_key_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "site.pem"
    keys.load_or_create_site_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        keys.load_or_create_site_key(path)


def test_garbage_key_file(tmp_path):
    path = tmp_path / "site.pem"
    path.write_bytes(b"not a key")
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="not a usable private key"):
        keys.load_or_create_site_key(path)


def test_sign_and_verify_canonical_documents(tmp_path):
    key = keys.load_or_create_site_key(tmp_path / "k.pem")
    pub = keys.load_public_key(keys.public_key_text(key.public_key()))
    doc = {"b": [1, 2], "a": "取引"}
    sig = keys.sign(key, doc)
    assert keys.verify(pub, {"a": "取引", "b": [1, 2]}, sig)  # key order does not matter
    assert not keys.verify(pub, {"a": "取引", "b": [1, 3]}, sig)
    middle = len(sig) // 2  # a middle character: the last ones may be padding bits
    assert not keys.verify(pub, doc, sig[:middle] + ("A" if sig[middle] != "A" else "B") + sig[middle + 1:])
    assert not keys.verify(pub, doc, "%%%")
    assert not keys.verify(pub, doc, 12)


@pytest.mark.parametrize("text", ["", "AAAA", "not base64 !!", "A" * 60])
def test_bad_public_keys(text):
    with pytest.raises(ValueError):
        keys.load_public_key(text)
