"""The rules every membership of a register obeys, however it was written.

A network file (:mod:`keycities.network.loader`) and an edit of the register
in the web app (:mod:`keycities.workspace.edits`) are checked by the same
rules: dates in range and in order, a council that exists for the whole of
its membership, no council listed twice with overlapping dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from keycities.errors import KeycitiesError
from keycities.geography.vintage import FIRST_VINTAGE, LAST_VINTAGE, vintage_of_date
from keycities.network.register import Membership

EARLIEST_DATE = dt.date(1974, 4, 1)
"""The earliest join or leave date a register can hold: the day the local authority
districts of England and Wales began (Local Government Act 1972); no council of the
geography existed before it."""
class _Place(Protocol):
    @property
    def code(self) -> str: ...

    @property
    def name(self) -> str: ...


class Resolver(Protocol):
    """Anything that turns what people write into a place (see geography.names)."""

    def resolve(self, query: str, *, vintage: int | None = None) -> _Place: ...


def check_memberships(memberships: Sequence[Membership], resolver: Resolver, *,
                      earliest: dt.date | None = None) -> list[tuple[int, str]]:
    """Problems of a register's memberships, by the rules a network file is loaded with.

    The same rules as :func:`load_network` applies to each row of a file: the
    dates are plausible (from :data:`EARLIEST_DATE`, and not before ``earliest``
    when given) and ``left`` is after ``joined``, the council exists for the
    whole membership, and no council is listed twice with overlapping dates.
    The web's register edits are checked with it (:mod:`keycities.workspace`).

    Parameters
    ----------
    memberships
        The register, in order (a later row clashing with an earlier one is the
        one at fault).
    resolver
        Turns codes into councils of a vintage.
    earliest
        The first day the register can speak of (a network's earliest documented
        member list), if any.

    Returns
    -------
    list of tuple
        ``(index, message)`` for each problem, ``index`` being the membership's
        position; empty when the register is sound.
    """
    problems: list[tuple[int, str]] = []
    sound: list[tuple[str, Membership]] = []
    for i, m in enumerate(memberships):
        label = f"{m.as_published} ({m.code})"
        found = [f"{label}: {problem}" for _, problem in date_problems(m.joined, m.left,
                                                                        earliest)]
        if not found:
            try:
                resolve_for(resolver, m.code, m.joined, m.left)
            except KeycitiesError as exc:
                found.append(f"{label}: {exc}")
        problems += [(i, p) for p in found]
        if not found:
            sound.append((str(i), m))
    problems += [(int(i), p) for i, p in overlaps(sound, numbered=False)]
    return sorted(problems, key=lambda p: p[0])


def date_problems(joined: dt.date | None, left: dt.date | None,
                   earliest: dt.date | None = None) -> list[tuple[str, str]]:
    """``(field, problem)`` for dates out of range, and a ``left`` not after ``joined``."""
    problems = []
    floor = max(EARLIEST_DATE, earliest or EARLIEST_DATE)
    for key, day in (("joined", joined), ("left", left)):
        if day is not None and day < floor:
            why = ("the earliest documented member list" if earliest and floor == earliest
                   else "the earliest date a register can hold")
            problems.append((key, f"{key} {day} is before {floor}, {why}"))
    if not problems and joined and left and left <= joined:
        problems.append(("left", f"left {left} is not after joined {joined}"))
    return problems


def resolve_for(resolver: Resolver, place: str, joined: dt.date | None,
                 left: dt.date | None) -> _Place:
    """The council ``place`` names, which must exist for the whole membership.

    One rule for every row: the council exists on ``joined`` (when given) and on
    the last day of the membership (the day before ``left``, or today when it
    has not ended), so an abolished council needs a ``left`` date on or before
    its abolition, whether or not the row gives a ``joined`` date.
    """
    found = resolver.resolve(place, vintage=_vintage(joined) if joined else None)
    last = (left - dt.timedelta(days=1)) if left else dt.date.today()
    try:
        resolver.resolve(place, vintage=min(max(_vintage(last), FIRST_VINTAGE), LAST_VINTAGE))
    except KeycitiesError as exc:
        until = "its last day as a member" if left else "today (no `left` date is given)"
        raise KeycitiesError(f"{place!r} does not exist on {until}: {exc} Give the membership "
                             "a `left` date on or before the council's abolition, or list "
                             "the council that replaced it.") from exc
    return found


def _vintage(day: dt.date) -> int:
    return vintage_of_date(day.year, day.month)


def overlaps(memberships: list[tuple[str, Membership]], *,
              numbered: bool = True) -> list[tuple[str, str]]:
    """``(label, problem)`` for each membership whose council is already listed with
    overlapping dates; the problem starts with the label when ``numbered``."""
    problems = []
    seen: dict[str, list[Membership]] = {}
    for label, m in memberships:
        clash = [p for p in seen.get(m.code, []) if _intervals_overlap(p, m)]
        if clash:
            head = f"{label}: " if numbered else ""
            problems.append((label,
                f"{head}{m.as_published} ({m.code}) is already listed as "
                f"{clash[0].as_published!r} with overlapping dates"
            ))
        seen.setdefault(m.code, []).append(m)
    return problems


def _intervals_overlap(a: Membership, b: Membership) -> bool:
    lo, hi = dt.date.min, dt.date.max
    return (a.joined or lo) < (b.left or hi) and (b.joined or lo) < (a.left or hi)
