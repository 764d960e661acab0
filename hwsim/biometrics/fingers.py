"""Synthetic fingers: the templates the emulated module captures and the store holds.

A template is 512 bytes: ``HWFP``, the finger's number (4 bytes, big-endian), then noise.
``enrol(finger)`` is the reference the store keeps; each capture of the same finger on the
emulated module is new noise around the same number, so two captures never have equal
bytes, as with a real sensor. ``same_finger`` is the matcher the store emulator uses for
central matching (F5 remote): the same number is the same finger. It is a model of a
matcher's decision, not of its mathematics; real scores come from a real module or the
store's own matcher.
"""

from __future__ import annotations

import random

TEMPLATE_SIZE = 512
MAGIC = b"HWFP"


def enrol(finger: int, seed: int = 0) -> bytes:
    """The reference template of synthetic finger ``finger`` (as the store holds it)."""
    rng = random.Random(f"enrol-{finger}-{seed}")
    return MAGIC + finger.to_bytes(4, "big") + bytes(rng.randrange(256) for _ in range(TEMPLATE_SIZE - 8))


def finger_of(template: bytes) -> int | None:
    """The synthetic finger a template was taken from; None for anything else."""
    return int.from_bytes(template[4:8], "big") if template[:4] == MAGIC and len(template) == TEMPLATE_SIZE else None


def same_finger(reference: bytes, offered: bytes) -> bool:
    """Do two templates come from one synthetic finger? Never for a template that is not one."""
    finger = finger_of(reference)
    return finger is not None and finger == finger_of(offered)


def capture(finger: int, rng: random.Random) -> bytes:
    """One capture of ``finger`` on the sensor: the same finger, new noise."""
    return MAGIC + finger.to_bytes(4, "big") + bytes(rng.randrange(256) for _ in range(TEMPLATE_SIZE - 8))
