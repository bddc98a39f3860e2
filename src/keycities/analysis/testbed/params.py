"""The testbed capability's closed sets of options, declared once.

The core checks them, the CLI takes its option help from them and the web its
parameter types, descriptions and select labels.  (The outcomes are declared in
:mod:`keycities.analysis.testbed.outcomes`, where any outcome is resolved.)
"""

from __future__ import annotations

from typing import Literal

from keycities.analysis._choices import Choice

PoolMode = Literal["each", "shared"]
POOLS: Choice[PoolMode] = Choice(
    PoolMode, "donor pools",
    "each (the default): every testbed gets its own comparison places, the N most similar "
    "to it; shared: one pool for all, the union of those (a larger pool makes exact, "
    "non-unique fits more likely).",
    {"each": "Each testbed its own similar places", "shared": "One pool shared by all"})

__all__ = ["POOLS", "PoolMode"]
