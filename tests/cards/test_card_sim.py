"""The virtual OpenPGP card on its own: APDU in, APDU out, as the spec says."""

from __future__ import annotations

import pytest

from hwsim.cards.openpgp_card import OpenPGPCardSim

SELECT = "00A4040006D27600012401"


def run(card: OpenPGPCardSim, *apdus: str) -> list[str]:
    return [card.process(bytes.fromhex(a)).hex().upper() for a in apdus]


def sw(answer: str) -> str:
    return answer[-4:]


def test_nothing_before_select_and_wrong_aid():
    card = OpenPGPCardSim()
    assert run(card, "00CA006E00")[0] == "6A82"
    assert run(card, "00A4040006D27600012402")[0] == "6A82"
    assert run(card, SELECT)[0] == "9000"


def test_pin_counter_counts_down_blocks_and_is_reset_by_the_admin():
    card = OpenPGPCardSim()
    pin = b"123456".hex()
    wrong = b"654321".hex()
    answers = run(card, SELECT, "00200082", f"0020008206{wrong}", f"0020008206{wrong}", f"0020008206{wrong}",
                  f"0020008206{pin}", "00200082")
    assert answers[1:] == ["63C3", "63C2", "63C1", "63C0", "6983", "6983"]
    # the trade number stays unreadable while PW1 is blocked; the admin PIN unblocks it
    assert sw(run(card, "00CA010300")[0]) == "6983"
    answers = run(card, f"0020008308{b'12345678'.hex()}", f"002C028106{b'246810'.hex()}",
                  f"0020008206{b'246810'.hex()}")
    assert answers == ["9000", "9000", "9000"]


def test_pin_length_outside_the_bounds_costs_no_try():
    card = OpenPGPCardSim()
    assert run(card, SELECT, f"0020008203{b'123'.hex()}", "00200082") == ["9000", "6700", "63C3"]


def test_trade_number_needs_pw1_82_and_pw1_81_is_not_enough():
    card = OpenPGPCardSim()
    run(card, SELECT, f"0020008308{b'12345678'.hex()}")
    assert sw(run(card, "00CA010300")[0]) == "6982"               # PW3 does not open 0103 for reading
    run(card, f"0020008106{b'123456'.hex()}")
    assert sw(run(card, "00CA010300")[0]) == "6982"
    run(card, f"0020008206{b'123456'.hex()}", "00DA010304" + b"T-01".hex())
    assert run(card, "00CA010300")[0] == b"T-01".hex().upper() + "9000"


def test_signature_needs_81_once_and_counts():
    card = OpenPGPCardSim()
    run(card, SELECT, f"0020008308{b'12345678'.hex()}", "0047800002B60000")
    digest = "11" * 32
    assert sw(run(card, f"002A9E9A20{digest}00")[0]) == "6982"
    first, second = run(card, f"0020008106{b'123456'.hex()}", f"002A9E9A20{digest}00")
    assert first == "9000" and sw(second) == "9000" and len(second) == 2 * 66
    assert sw(run(card, f"002A9E9A20{digest}00")[0]) == "6982"     # C4 byte 1 = 00: one signature per VERIFY
    assert run(card, "00CA007A00")[0] == "9303000001" + "9000"


def test_t0_card_answers_61xx_and_6cxx():
    card = OpenPGPCardSim(protocol="T=0")
    run(card, SELECT)
    assert run(card, "00CA00C400")[0] == "6C07"                     # case 2, wrong Le: the exact length
    assert sw(run(card, "00CA00C407")[0]) == "9000"
    run(card, f"0020008308{b'12345678'.hex()}")
    answer = run(card, "0047800002B600")[0]                          # case 3 (T=0 drops Le) with data back
    assert answer[:2] == "61"
    key = run(card, "00C00000" + answer[2:4])[0]
    assert sw(key) == "9000" and key.startswith("7F4922") and len(key) == 2 * (37 + 2)


def test_command_chaining_and_a_broken_chain():
    card = OpenPGPCardSim(special_do_max=600)
    run(card, SELECT, f"0020008206{b'123456'.hex()}")
    part = "AB" * 255
    assert run(card, f"10DA0101FF{part}", "00DA010103ABCDEF") == ["9000", "9000"]
    assert len(card.state.dos[0x0101]) == 258
    assert run(card, f"10DA0101FF{part}", "00CA010100")[1] == "6883"


def test_memory_failure_changes_nothing():
    card = OpenPGPCardSim()
    run(card, SELECT, f"0020008206{b'123456'.hex()}", "00DA010302" + b"OK".hex())
    card.faults.memory_failure = True
    assert run(card, "00DA010302" + b"NO".hex()) == ["6581"]
    card.faults.memory_failure = False
    assert run(card, "00CA010300")[0] == b"OK".hex().upper() + "9000"


def test_terminate_and_activate_is_a_factory_reset():
    card = OpenPGPCardSim()
    run(card, SELECT, f"0020008206{b'123456'.hex()}", "00DA010302" + b"OK".hex())
    assert run(card, "00E60000")[0] == "6982"                       # needs PW3 (or PW3 blocked)
    assert run(card, f"0020008308{b'12345678'.hex()}", "00E60000", SELECT) == ["9000", "9000", "6285"]
    assert run(card, "00440000", SELECT, f"0020008206{b'123456'.hex()}", "00CA010300") == \
        ["9000", "9000", "9000", "9000"]


@pytest.mark.parametrize("apdu, status", [("80CA006E00", "6E00"), ("00FF000000", "6D00"), ("00A4", "6700")])
def test_unknown_commands(apdu, status):
    card = OpenPGPCardSim()
    run(card, SELECT)
    assert run(card, apdu) == [status]
