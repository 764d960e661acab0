"""The database's folder is 0700 and its files 0600 whoever starts the controller (issue 8
§5); a folder or file open to other users is refused, as the site key is."""

import os
import stat
from contextlib import contextmanager

import pytest

from kiosk.errors import StorageError
from kiosk.storage.database import Database


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@contextmanager
def umask(value: int):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o000])
def test_a_new_database_is_private_whatever_the_umask(tmp_path, mask):
    path = tmp_path / "state" / "nested" / "kiosk.db"
    with umask(mask):
        db = Database(path)
        with db.transaction(1.0) as tx:
            tx.audit("test", "something")
        try:
            assert mode(path.parent) == 0o700 and mode(path) == 0o600
            for suffix in ("-wal", "-shm"):
                assert mode(path.with_name(path.name + suffix)) == 0o600, suffix
        finally:
            db.close()


def test_a_folder_open_to_others_is_refused(tmp_path):
    folder = tmp_path / "state"
    folder.mkdir()
    folder.chmod(0o755)
    with pytest.raises(StorageError, match=r"open to other users \(mode 755\).*chmod 700"):
        Database(folder / "kiosk.db")
    assert not (folder / "kiosk.db").exists()


@pytest.mark.parametrize("suffix", ["", "-wal"])
def test_a_file_open_to_others_is_refused(tmp_path, suffix):
    path = tmp_path / "kiosk.db"
    Database(path).close()
    target = path.with_name(path.name + suffix)
    target.touch()
    target.chmod(0o644)
    with pytest.raises(StorageError, match="chmod 600"):
        Database(path)
