"""Which free door a parcel goes into (kiosk.domain.compartments), checked by rule and by
property: never a smaller door, a low-door parcel only in a low door, the hint when it
fits, else the smallest fitting size and high doors before low ones."""

from __future__ import annotations

from hypothesis import given, strategies as st

from kiosk.domain.compartments import RANK, SIZES, Layout, Refusal, choose

LAYOUT = Layout({1: "S", 2: "S", 3: "M", 4: "M", 5: "L", 6: "XL"}, frozenset({1, 3, 5}))


def test_smallest_fitting_size_and_high_doors_first():
    assert choose(range(1, 7), LAYOUT, size="S", low_door=False, hint=None) == 2    # S, the high one
    assert choose(range(1, 7), LAYOUT, size="M", low_door=False, hint=None) == 4
    assert choose([5, 6], LAYOUT, size="S", low_door=False, hint=None) == 5          # the right size is full
    assert choose(range(1, 7), LAYOUT, size=None, low_door=False, hint=None) == 2


def test_a_low_door_parcel_goes_low_or_to_the_counter():
    assert choose(range(1, 7), LAYOUT, size="S", low_door=True, hint=None) == 1
    assert choose([2, 4, 6], LAYOUT, size="S", low_door=True, hint=None) == Refusal(
        "no_low_door", choose([2, 4, 6], LAYOUT, size="S", low_door=True, hint=None).message)


def test_the_hint_only_when_it_fits():
    assert choose(range(1, 7), LAYOUT, size="M", low_door=False, hint=6) == 6
    assert choose(range(1, 7), LAYOUT, size="L", low_door=False, hint=2) == 5
    refused = choose([1, 2], LAYOUT, size="L", low_door=False, hint=None)
    assert isinstance(refused, Refusal) and refused.reason == "no_fitting_door" and "L, XL" in refused.message


def test_untagged_doors_take_anything():
    assert choose([7, 8], LAYOUT, size="XL", low_door=False, hint=None) == 7


@given(st.dictionaries(st.integers(1, 30), st.sampled_from(SIZES)), st.frozensets(st.integers(1, 30)),
       st.sets(st.integers(1, 30), min_size=1), st.none() | st.sampled_from(SIZES), st.booleans(),
       st.none() | st.integers(1, 30))
def test_never_too_small_never_high_for_a_low_door_parcel(sizes, low, free, size, low_door, hint):
    layout = Layout(sizes, low)
    got = choose(free, layout, size=size, low_door=low_door, hint=hint)
    if isinstance(got, Refusal):
        fitting = [d for d in free if layout.fits(d, size) and (not low_door or d in low)]
        assert fitting == []
        return
    assert got in free and layout.fits(got, size)
    assert not low_door or got in low
    if size is not None and got in sizes and hint != got:
        assert all(RANK[sizes[d]] >= RANK[sizes[got]] for d in free if d in sizes and layout.fits(d, size)
                   and (not low_door or d in low))
