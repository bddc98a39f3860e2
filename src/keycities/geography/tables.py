"""The geography an analysis needs, prepared once: LADs, changes, split weights.

Crosswalks are cached per (source, target) vintage pair, so an analysis that
evaluates many slices (the claims audit searches every year and release) maps
each pair once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from keycities.geography.areas import areas_in_vintage, lad_changes, lad_table, with_changes
from keycities.geography.mapping import crosswalk


@dataclass
class GeographyTables:
    """LAD table, change rows and split weights, with cached crosswalks."""

    lads: pd.DataFrame
    changes: pd.DataFrame
    weights: pd.DataFrame
    _xwalks: dict[tuple[int, int], pd.DataFrame] = field(default_factory=dict, repr=False)
    _recodes: dict[int, tuple[set[str], dict[str, str]]] = field(default_factory=dict,
                                                                 repr=False)

    @classmethod
    def from_rows(cls, area_rows: pd.DataFrame, changes: pd.DataFrame,
                  weights: pd.DataFrame) -> GeographyTables:
        """Build from the store's ``area``, ``change`` and ``split_weight`` rows."""
        return cls(with_changes(lad_table(area_rows), changes), changes, weights)

    def crosswalk(self, source: int, target: int) -> pd.DataFrame:
        """The crosswalk from vintage ``source`` to ``target`` (cached)."""
        key = (source, target)
        if key not in self._xwalks:
            self._xwalks[key] = crosswalk(self.lads, self.changes, source=source,
                                          target=target, weights=self.weights)
        return self._xwalks[key]

    @property
    def names(self) -> dict[str, str]:
        """LAD code -> name."""
        return dict(zip(self.lads["code"], self.lads["name"], strict=False))

    def recode_stale(self, codes: pd.Series, vintage: int) -> pd.Series:
        """Replace codes that a release uses a vintage late by their recoded successor.

        Publishers sometimes keep a recoded district's old code for a year (the
        Dec-2019 GVA release has Glasgow as S12000046, recoded S12000049 in
        2019).  A recode keeps the area (or changes it marginally: 'new_geo'),
        so the old code's value is the new code's.  Codes that are not old
        codes of a recode are returned unchanged.
        """
        present, successor = self._recodes_of(vintage)
        # Only a code absent from ``vintage`` with a successor can change: look at those
        # alone (a panel recodes every year's release, hundreds of codes each).
        stale = ~codes.isin(present) & codes.isin(successor.keys())
        if not stale.any():
            return codes.copy()
        have = set(codes)

        def fix(code: str) -> str:
            new = code
            for _ in range(5):  # recode chains are short; guard against cycles
                if new in present or new not in successor:
                    break
                new = successor[new]
            return new if new in present and new not in have else code

        out = codes.copy()
        out[stale] = codes[stale].map(fix)
        return out

    def _recodes_of(self, vintage: int) -> tuple[set[str], dict[str, str]]:
        """The codes of ``vintage`` and each recoded code's successor (cached: a panel
        recodes every year's release)."""
        if vintage not in self._recodes:
            present = set(areas_in_vintage(self.lads, vintage)["code"])
            ch = lad_changes(self.changes)
            recodes = ch[ch["type"].isin(["new_code", "new_geo"]) & (ch["year"] <= vintage)]
            successor = dict(zip(recodes["old_code"], recodes["new_code"], strict=False))
            self._recodes[vintage] = (present, successor)
        return self._recodes[vintage]
