"""Fixtures for the tag tests: a store (TagIssuer) with cheap Argon2id parameters, as the
tags themselves carry them; production parameters are only for the bench."""

from __future__ import annotations

import pytest

from kiosk.security import tags
from hwsim.tags import TagIssuer

SITE = "sim-site"


@pytest.fixture(scope="session")
def issuer() -> TagIssuer:
    return TagIssuer(SITE, tags.CHEAP)


@pytest.fixture(scope="session")
def keys(issuer):
    return issuer.keys()


@pytest.fixture(scope="session")
def f1(issuer) -> str:
    return issuer.tag("f1_tag", "1234-5678", "424242")


@pytest.fixture(scope="session")
def f2(issuer) -> str:
    return issuer.tag("f2_tag", "1234-5678", "424242")
