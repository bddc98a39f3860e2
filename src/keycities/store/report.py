"""What a build did: one outcome per release, and the report of a whole build."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from keycities.sources.base import Release

Status = Literal["loaded", "unchanged", "missing", "failed"]
Observer = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    """What happened to one release in a build."""

    source: str
    release: Release
    status: Status
    rows: int = 0
    message: str = ""
    seconds: float = 0.0


@dataclass
class BuildReport:
    """Every release's outcome, in build order."""

    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def by_status(self, status: Status) -> list[Outcome]:
        """Outcomes with one status."""
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> bool:
        """True when nothing failed (missing files are not failures)."""
        return not self.by_status("failed")

    def to_frame(self) -> pd.DataFrame:
        """One row per release: source, release id, status, rows, seconds, message."""
        return pd.DataFrame(
            [
                {"source": o.source, "release": o.release.id, "status": o.status,
                 "rows": o.rows, "seconds": round(o.seconds, 2), "message": o.message}
                for o in self.outcomes
            ],
            columns=["source", "release", "status", "rows", "seconds", "message"],
        )
