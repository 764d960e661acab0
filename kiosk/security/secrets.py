"""Secret hashing: Argon2id, parameters stored with every hash (PHC string format).

    $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>

A secret (a recipient's verification secret, a courier code) is never stored or logged
in the clear; only this string is kept. Verification re-reads the parameters from the
string, so old hashes keep verifying after the site raises its cost. Parameters inside a
hash that came from elsewhere (a store manifest) are bounded first: a hostile hash must
not make the kiosk allocate gigabytes.

Entered secrets are normalised (Unicode NFKC, surrounding blanks removed) before hashing,
so full-width digits typed on a Japanese keyboard match the ASCII ones.
"""

from __future__ import annotations

import os
import re
import unicodedata
from typing import TypeGuard
from dataclasses import dataclass

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

# OWASP's first recommended Argon2id setting: 19 MiB, 2 passes, 1 lane (~40 ms here).
DEFAULT_MEMORY_KIB = 19456
DEFAULT_ITERATIONS = 2
DEFAULT_LANES = 1

MIN_MEMORY_KIB = 1024          # below this a hash is not "slow"; refused in config
MAX_MEMORY_KIB = 256 * 1024    # bound for hashes received from elsewhere
MAX_ITERATIONS = 16
MAX_LANES = 8

_PHC = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{22,}$")


@dataclass(frozen=True)
class HashParams:
    memory_kib: int = DEFAULT_MEMORY_KIB
    iterations: int = DEFAULT_ITERATIONS
    lanes: int = DEFAULT_LANES

    def __post_init__(self) -> None:
        if not MIN_MEMORY_KIB <= self.memory_kib <= MAX_MEMORY_KIB:
            raise ValueError(f"memory_kib must be in {MIN_MEMORY_KIB}..{MAX_MEMORY_KIB}")
        if not 1 <= self.iterations <= MAX_ITERATIONS:
            raise ValueError(f"iterations must be in 1..{MAX_ITERATIONS}")
        if not 1 <= self.lanes <= MAX_LANES:
            raise ValueError(f"lanes must be in 1..{MAX_LANES}")
        if self.memory_kib < 8 * self.lanes:
            raise ValueError("memory_kib must be at least 8 × lanes")


def normalise(secret: str) -> bytes:
    """The bytes that are hashed for ``secret``: NFKC, blanks around it removed, UTF-8."""
    if not isinstance(secret, str):
        raise TypeError("a secret is text")
    return unicodedata.normalize("NFKC", secret).strip().encode("utf-8")


def hash_secret(secret: str, params: HashParams = HashParams()) -> str:
    """Return the PHC string of a fresh salted Argon2id hash of ``secret``."""
    kdf = Argon2id(salt=os.urandom(16), length=32, iterations=params.iterations,
                   lanes=params.lanes, memory_cost=params.memory_kib)
    return kdf.derive_phc_encoded(normalise(secret))


def is_valid_hash(encoded: object) -> TypeGuard[str]:
    """True when ``encoded`` is an Argon2id PHC string whose cost is within our bounds."""
    if not isinstance(encoded, str):
        return False
    match = _PHC.match(encoded)
    if not match:
        return False
    memory, iterations, lanes = (int(g) for g in match.groups())
    return (MIN_MEMORY_KIB <= memory <= MAX_MEMORY_KIB and 1 <= iterations <= MAX_ITERATIONS
            and 1 <= lanes <= MAX_LANES)


def verify_secret(secret: str, encoded: str) -> bool:
    """True when ``secret`` matches ``encoded``. A malformed or out-of-bounds hash never matches."""
    if not is_valid_hash(encoded):
        return False
    try:
        Argon2id.verify_phc_encoded(normalise(secret), encoded)
    except InvalidKey:
        return False
    return True
