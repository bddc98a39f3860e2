"""A scorecard told of another date with the same members (the web's shared computation)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from keycities.analysis.indicators.scorecard import Scorecard, Subject, for_subject


def subject(at: dt.date, codes: list[str], notes: tuple[str, ...], vintage: int = 2023
            ) -> Subject:
    members = pd.DataFrame({"code": codes, "name": [f"Place {c}" for c in codes]})
    return Subject("network", "net", "A network", at, vintage, members, notes)


def test_another_date_keeps_the_rows_and_takes_its_own_membership_notes() -> None:
    rows = pd.DataFrame({"indicator": ["a"], "value": [1.5]})
    ranks = pd.DataFrame({"indicator": ["a"], "code": ["E1"], "rank": [3]})
    june = subject(dt.date(2024, 6, 1), ["E1", "E2"], ("list of 1 June",))
    card = Scorecard(june, rows, ranks, ["economy"], ["list of 1 June", "2 not in the card"])
    july = subject(dt.date(2024, 7, 1), ["E1", "E2"], ("list of 1 July", "E3 left"))
    told = for_subject(card, july)
    assert told.subject is july and told.rows is rows and told.ranks is ranks
    assert told.notes == ["list of 1 July", "E3 left", "2 not in the card"]
    assert card.notes == ["list of 1 June", "2 not in the card"]  # the original is kept


@pytest.mark.parametrize("other", [
    subject(dt.date(2024, 7, 1), ["E1", "E3"], ()),  # another member
    subject(dt.date(2024, 7, 1), ["E1", "E2"], (), vintage=2024),  # other boundaries
])
def test_other_members_or_boundaries_are_refused(other: Subject) -> None:
    june = subject(dt.date(2024, 6, 1), ["E1", "E2"], ())
    card = Scorecard(june, pd.DataFrame(), pd.DataFrame(), [], [])
    with pytest.raises(ValueError, match="must be computed"):
        for_subject(card, other)
