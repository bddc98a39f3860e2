"""The evidence pack's options with a closed set of values, declared once (light to import)."""

from __future__ import annotations

from typing import Literal

from keycities.analysis._choices import Choice

PackPlaces = Literal["all", "members"]
PACK_PLACES: Choice[PackPlaces] = Choice(
    PackPlaces, "place pages", "Place pages for 'all' districts, or only the network's 'members'.")
