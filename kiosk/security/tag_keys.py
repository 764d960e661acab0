"""The keys that parcel tags need at a pickup point (docs/tags.md, "Keys").

- The **store's public key** (Ed25519) verifies the signature every tag carries. It is
  public; it comes from the config as unpadded base64url of the raw 32 bytes.
- The **site tag key**: 32 random bytes known only to this pickup point and the store.
  F1 verifiers and F2 encryption keys are keyed with it, so whoever holds a tag but not
  this key cannot test guesses of the secret offline. It lives in its own file, owner-only
  (0600, like the site's signing key in ``kiosk.security.keys``); a file readable by
  others is refused rather than used.

File format of the site tag key: one line, the key as unpadded base64url (43 characters),
so it can be provisioned by copy and paste from the store's set-up screen.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.errors import ConfigError, KeyFileError
from kiosk.security.keys import b64url, load_public_key, unb64url

SITE_KEY_BYTES = 32


@dataclass(frozen=True)
class TagKeys:
    """What the kiosk needs to check tags: who it is, whom it trusts, and the shared key."""

    site_id: str
    store_public_key: Ed25519PublicKey
    site_key: bytes = field(repr=False)  # never printed, never logged

    def __post_init__(self) -> None:
        if not isinstance(self.site_key, bytes) or len(self.site_key) != SITE_KEY_BYTES:
            raise ValueError(f"the site tag key is {SITE_KEY_BYTES} bytes")
        if not self.site_id:
            raise ValueError("a site id is required")


def site_key_text(key: bytes) -> str:
    return b64url(key)


def parse_site_key(text: str) -> bytes:
    """The 32-byte key from its text form. Raises ValueError."""
    try:
        key = unb64url(text.strip())
    except (ValueError, TypeError):
        raise ValueError("not base64url text") from None
    if len(key) != SITE_KEY_BYTES:
        raise ValueError(f"a site tag key is {SITE_KEY_BYTES} bytes, this is {len(key)}")
    return key


def load_site_key(path: str | Path) -> bytes:
    """Read the site tag key at ``path``. Raises KeyFileError (missing, readable by others, malformed)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no site tag key here (the store provides it at set-up)") from None
    except OSError as err:
        raise KeyFileError(f"{path}: cannot read the site tag key: {err}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path}: the site tag key is readable by others (mode {oct(mode & 0o777)}); chmod 600 it")
    try:
        return parse_site_key(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        # The message names the problem, never the file's content.
        raise KeyFileError(f"{path}: not a usable site tag key: {err}") from None


def create_site_key(path: str | Path) -> bytes:
    """Make a new random site tag key at ``path`` (0600 from the first byte; never overwrites).

    Used at provisioning (the store side makes it and gives it to the site). Raises KeyFileError."""
    path = Path(path)
    key = os.urandom(SITE_KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path}: a key is already there; it is never overwritten") from None
    except OSError as err:
        raise KeyFileError(f"{path}: cannot create the site tag key: {err}") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(site_key_text(key) + "\n")
        out.flush()
        os.fsync(out.fileno())
    return key


def load_tag_keys(site_id: str, key_file: str | Path, store_public_key: str) -> TagKeys:
    """The kiosk's tag keys from config values. Raises KeyFileError (the key file) or
    ConfigError (the store public key text)."""
    try:
        public = load_public_key(store_public_key)
    except (ValueError, TypeError) as err:
        raise ConfigError([("tags.store_public_key", f"not an Ed25519 public key: {err}")]) from None
    return TagKeys(site_id, public, load_site_key(key_file))
