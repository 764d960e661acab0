"""The NFC token tests use the IC-card tests' private pcscd (one per test process)."""

from tests.cards.conftest import pcscd  # noqa: F401 — a fixture
