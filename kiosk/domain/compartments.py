"""Which free door a parcel goes into (issue 15 §3): sizes and doors people can reach.

A site tags its compartments in the config (``[lockers.sizes]``: which doors are XS, S, M,
L, XL; ``[lockers] low``: doors a person in a wheelchair or a child can reach). The store
tags a parcel with the smallest size it fits (``size``) and, when the recipient asked for
it, ``low_door``. Rules, in order:

1. a parcel never goes into a door smaller than its size (a door with no size tag takes
   any parcel: a site that tags nothing keeps the old behaviour);
2. a ``low_door`` parcel goes only into a low door — a high one defeats the request, so
   with none free the courier is told to leave it for the counter;
3. the store's ``locker_hint``, when that door is free and fits;
4. else the smallest fitting size (keeping big doors for big parcels), low doors last for
   parcels that do not need them, then the lowest number.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SIZES = ("XS", "S", "M", "L", "XL")
RANK = {size: i for i, size in enumerate(SIZES)}


@dataclass(frozen=True)
class Layout:
    """The site's compartments: door number -> size (untagged doors absent), low doors."""

    sizes: Mapping[int, str] = field(default_factory=dict)
    low: frozenset[int] = frozenset()

    def size_of(self, door: int) -> str | None:
        return self.sizes.get(door)

    def fits(self, door: int, parcel_size: str | None) -> bool:
        door_size = self.sizes.get(door)
        return parcel_size is None or door_size is None or RANK[door_size] >= RANK[parcel_size]


@dataclass(frozen=True)
class Refusal:
    """Why no door was chosen, in words for the courier, and the sizes that would do."""

    reason: str            # "no_fitting_door" | "no_low_door"
    message: str


def choose(free: Iterable[int], layout: Layout, *, size: str | None, low_door: bool,
           hint: int | None) -> int | Refusal:
    """The door for a parcel among the ``free`` ones (usable for a deposit), or why none."""
    doors = sorted(set(free))
    fitting = [d for d in doors if layout.fits(d, size)]
    if low_door:
        fitting = [d for d in fitting if d in layout.low]
        if not fitting:
            return Refusal("no_low_door", "no low door is free that fits this parcel: "
                                          "the recipient asked for one — leave it for the counter")
    if not fitting:
        bigger = ", ".join(s for s in SIZES if size is None or RANK[s] >= RANK[size])
        return Refusal("no_fitting_door", f"no free door fits a size {size} parcel (it needs {bigger}): "
                                          "leave it for the counter")
    if hint in fitting:
        return hint
    return min(fitting, key=lambda d: (RANK.get(layout.sizes.get(d, "XL"), len(SIZES)),
                                       not low_door and d in layout.low, d))


def check_size(value: object) -> str | None:
    """Why ``value`` is not a parcel size (None when it is one)."""
    return None if value in SIZES else f"must be one of {', '.join(SIZES)}"
