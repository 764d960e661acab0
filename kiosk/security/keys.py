"""Ed25519 keys and signatures: the pickup point's own key pair, and pinned peer keys.

- The site's private key is created on first run and stored as PKCS#8 PEM with
  owner-only permissions (0600, in a 0700 folder); a key file readable by others is
  refused rather than used.
- Signatures are over the RFC 8785 (JSON Canonicalization Scheme) form of a document,
  made by the maintained ``rfc8785`` package: a store or site written in any language
  with a JCS library signs and checks the same bytes. (``canonical_bytes`` — compact,
  sorted keys — is only a request-body encoding; it is never what a signature covers.)
- Public keys travel as raw 32 bytes in unpadded base64url (as in JWK "x").
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import rfc8785

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.errors import KeyFileError


def canonical_bytes(document) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def signing_bytes(document) -> bytes:
    """The bytes a signature covers: the RFC 8785 canonical JSON of ``document``. Raises
    ValueError for a value JCS cannot represent (an integer beyond ±(2**53 - 1), NaN, a
    string that is not Unicode text)."""
    try:
        return rfc8785.dumps(document)
    except rfc8785.CanonicalizationError as err:
        raise ValueError(f"not signable as RFC 8785 JSON: {type(err).__name__}") from None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError("expected base64url text")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_text(key: Ed25519PublicKey) -> str:
    return b64url(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def load_public_key(text: str) -> Ed25519PublicKey:
    """Raises ValueError for anything that is not a 32-byte Ed25519 public key."""
    raw = unb64url(text)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def load_public_key_file(path: Path) -> Ed25519PublicKey:
    """A pinned peer key from a file: its base64url text (as ``public_key_text`` writes it,
    one line) or a PEM SubjectPublicKeyInfo. Raises KeyFileError."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise KeyFileError(f"{path}: cannot read the public key: {err.strerror or err}") from None
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(data)
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("not an Ed25519 key")
            return key
        return load_public_key(data.decode("ascii").strip())
    except (ValueError, TypeError, UnicodeDecodeError) as err:
        raise KeyFileError(f"{path}: not an Ed25519 public key (base64url or PEM): {err}") from None


def sign(key: Ed25519PrivateKey, document) -> str:
    return b64url(key.sign(signing_bytes(document)))


def verify(key: Ed25519PublicKey, document, signature: str) -> bool:
    """True only for a well-formed signature by ``key`` over exactly ``document``."""
    try:
        key.verify(unb64url(signature), signing_bytes(document))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def derived_key(key: Ed25519PrivateKey, purpose: bytes, length: int = 32) -> bytes:
    """A key for ``purpose`` (e.g. the log's pseudonyms) derived from the site's private key
    with HKDF-SHA256: the same on every start, useless for anything else."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose).derive(raw)


def load_or_create_site_key(path: Path) -> Ed25519PrivateKey:
    """The site's private key at ``path``, made on first use. Raises KeyFileError."""
    path = Path(path)
    if path.exists():
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(f"{path}: the site key is readable by others (mode {oct(mode & 0o777)}); chmod 600 it")
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError, OSError) as err:
            raise KeyFileError(f"{path}: not a usable private key: {err}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"{path}: not an Ed25519 key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    # O_EXCL: two starts racing never overwrite each other's key; 0600 from the first byte.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    return key
