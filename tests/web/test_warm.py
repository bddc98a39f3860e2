"""Which network dates the start-up warming builds (one per member list and boundaries)."""

from __future__ import annotations

import datetime as dt

from keycities.analysis._members import member_vintage
from keycities.network.register import builtin_network
from keycities.web.warm import other_dates


def test_one_date_for_each_member_list_and_boundaries_since_the_first_list() -> None:
    # Issue 18 point 3: the network page of a date nobody asked for cost 0.2-0.4 s, the
    # figures of a new member list or vintage; every later date shares them.
    net = builtin_network("key-cities")
    today = dt.date(2026, 12, 6)
    dates = [dt.date.fromisoformat(d) for d in other_dates(net, today)]

    def key(at: dt.date) -> tuple[object, ...]:
        return member_vintage(at), tuple(net.members_at(at)["code"])

    keys = [key(d) for d in dates]
    assert len(set(keys)) == len(keys) and key(today) not in keys
    assert dates[0] == net.earliest and dates == sorted(dates)
    every_month = {key(dt.date(y, m, 1)) for y in range(2021, 2027) for m in range(1, 13)
                   if dt.date(y, m, 1) <= today}
    assert every_month == {*keys, key(today)}  # no member list or vintage is missed
