"""IC card receipt signatures leave through the outbox to their own endpoint, in their
place in the pickup point's order, exactly once as the store counts them."""

import pytest

from kiosk.service.card_pickup import CARD_SIGNATURE_EVENT
from kiosk.security.keys import b64url
from tests.sync.conftest import deliver_all, pending

SITE = "sim-site"


def queue_mixed(c, trade: str) -> list[str]:
    with c.site.db.transaction(c.clock.now()) as tx:
        first = tx.emit("verification_failed", trade, failed_attempts=1, at=tx.now)
        sig = tx.emit(CARD_SIGNATURE_EVENT, trade, card_id="openpgp-FF00-0BADCAFE",
                      signature=b64url(bytes(64)), signed_data=b64url(b"record"))
        last = tx.emit("verification_failed", trade, failed_attempts=2, at=tx.now)
    return [first, sig, last]


async def test_card_signature_goes_to_its_endpoint_between_the_events_around_it(linked):
    c, store = linked.controller, linked.store
    trade = store.create_parcel(SITE, "ic_card").trade_number
    first, _, last = queue_mixed(c, trade)
    await deliver_all(linked)
    paths = [r.path.rsplit("/", 1)[-1] for r in store.requests if r.method == "POST"]
    assert paths[-3:] == ["events", "card-signatures", "events"]
    assert [e["event_id"] for e in store.events(SITE)][-2:] == [first, last]
    [stored] = store.card_signatures(SITE)
    assert stored["trade_number"] == trade and stored["card_id"] == "openpgp-FF00-0BADCAFE"


async def test_a_refused_card_signature_is_kept_aside_and_does_not_hold_back_what_follows(linked):
    c, store = linked.controller, linked.store
    first, sig, last = queue_mixed(c, "0000-0000")    # a parcel the store never sent here: 404
    await deliver_all(linked)
    assert pending(c) == 0 and store.card_signatures(SITE) == []
    assert [q["event_id"] for q in c.site.db.quarantined()] == [sig]
    assert [e["event_id"] for e in store.events(SITE)][:2] == [first, last]
    [alarm] = [e for e in store.events(SITE) if e["kind"] == "event_rejected"]
    assert alarm["payload"]["event_id"] == sig and alarm["payload"]["error"] == "unknown_parcel"


@pytest.mark.parametrize("variant", ["wrong_key", "tampered"])
async def test_a_forged_stored_answer_marks_nothing_sent(linked, variant):
    """v1.1: the store's "stored" is signed for the request and its body; a forged one is a
    failed exchange, and the signature goes again once the store answers properly."""
    c, store = linked.controller, linked.store
    trade = store.create_parcel(SITE, "ic_card").trade_number
    queue_mixed(c, trade)
    store.set_fault("bad_signature", variant=variant, path="/card-signatures")
    await c.sync.settle()
    assert pending(c) >= 2 and c.site.db.quarantined() == []
    assert "BadStoreSignature" in c.status()["store_link"]["channels"]["events"]["last_error"]
    store.clear_faults()
    await deliver_all(linked)
    assert pending(c) == 0 and len(store.card_signatures(SITE)) == 1
