"""The site tag key file (kiosk.security.tag_keys): 0600, never overwritten, never shown."""

from __future__ import annotations

import os
import stat

import pytest

from kiosk.errors import ConfigError, KeyFileError
from kiosk.security import tag_keys
from kiosk.security.keys import public_key_text


def test_created_owner_only_and_read_back(tmp_path):
    path = tmp_path / "keys" / "tags.key"
    key = tag_keys.create_site_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert tag_keys.load_site_key(path) == key and len(key) == 32


def test_never_overwritten(tmp_path):
    path = tmp_path / "tags.key"
    key = tag_keys.create_site_key(path)
    with pytest.raises(KeyFileError, match="never overwritten"):
        tag_keys.create_site_key(path)
    assert tag_keys.load_site_key(path) == key


def test_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "tags.key"
    tag_keys.create_site_key(path)
    os.chmod(path, 0o640)
    with pytest.raises(KeyFileError, match="readable by others"):
        tag_keys.load_site_key(path)


@pytest.mark.parametrize("content", [b"", b"not base64 !!", b"AAAA", "é".encode()])
def test_malformed_files_are_refused_without_echoing_them(tmp_path, content):
    path = tmp_path / "tags.key"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError) as err:
        tag_keys.load_site_key(path)
    assert "not a usable site tag key" in str(err.value)
    if content:
        assert content.decode("utf-8", "replace") not in str(err.value)


def test_missing(tmp_path):
    with pytest.raises(KeyFileError, match="no site tag key"):
        tag_keys.load_site_key(tmp_path / "absent.key")


def test_load_tag_keys_and_repr_hides_the_key(tmp_path, issuer):
    path = tmp_path / "tags.key"
    key = tag_keys.create_site_key(path)
    keys = tag_keys.load_tag_keys("sim-site", path, public_key_text(issuer.store_key.public_key()))
    assert keys.site_key == key and tag_keys.site_key_text(key) not in repr(keys)
    with pytest.raises(ConfigError, match="store_public_key"):
        tag_keys.load_tag_keys("sim-site", path, "not-a-key")
    with pytest.raises(ValueError):
        tag_keys.TagKeys("sim-site", issuer.store_key.public_key(), b"short")
