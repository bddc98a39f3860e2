"""What twinning pairs and under which constraints: the spec, its options, one builder.

The options with a closed set of values (:data:`MODE`, :data:`DIFFERENT`, the
place set :data:`~keycities.analysis.places.place_sets.PLACE_SET`) and the
distance bound :data:`MAX_KM` are declared here once; :func:`twin_spec` builds a
:class:`TwinSpec` from what a person typed (comma-separated features, defaults
that depend on the place set), for the command line and the web app alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from keycities.analysis._choices import Choice
from keycities.analysis.places.params import default_contrast
from keycities.errors import Param, ParameterError

Mode = Literal["bridge", "bond", "mixed"]
MODE: Choice[Mode] = Choice(
    Mode, "twinning mode", "bridge (contrast), bond (alike) or mixed.",
    {"bridge": "Bridge: pair places that differ", "bond": "Bond: pair places alike",
     "mixed": "Mixed"})

Different = Literal["region", "nation"]
DIFFERENT: Choice[Different] = Choice(Different, "divide",
                                      "Pair only across 'region' or 'nation'.")

NetworkRule = Literal["cross", "within"]

GB = ("England", "Wales", "Scotland")
"""The countries twinned by default (Northern Ireland on request)."""

BAND_SD = 1.0
"""Default similarity band: pairs at most 1 standard deviation apart on each ``similar``
feature (population is logged, so about a factor of 1.8 between the councils)."""

MAX_KM = 2000.0
"""Largest distance bound the front ends accept (Great Britain is about 1,300 km end
to end; the core takes any distance, for places of any extent)."""


@dataclass(frozen=True)
class TwinSpec:
    """What to pair and under which constraints."""

    mode: Mode = "bridge"
    contrast: tuple[str, ...] = ()
    similar: tuple[str, ...] = ()
    min_km: float | None = None
    max_km: float | None = None
    different: Different | None = None
    network: frozenset[str] = frozenset()
    network_rule: NetworkRule | None = None
    fixed: tuple[tuple[str, str], ...] = ()
    forbidden: tuple[tuple[str, str], ...] = ()
    leave_out: frozenset[str] = frozenset()
    band: float | None = None
    """Pairs differ by at most this many standard deviations on each ``similar``
    feature (every mode; in bridge mode it is how ``similar`` counts)."""
    keep_imputed: bool = False
    """Keep places whose contrast or similarity features are imputed (flagged)."""

    def check(self, features: Sequence[str]) -> None:
        """Raise a clear error for a spec that cannot be used with ``features``.

        Cheap (no data is read), so a front end can call it before starting a
        long computation with the place set's feature names
        (:func:`keycities.analysis.places.place_sets.offered_features`).

        Raises
        ------
        ParameterError
            Naming the parameter at fault (``contrast``, ``min_km``...).
        """
        if self.mode not in MODE:
            raise ParameterError("Unknown ", Param("mode"), f" {self.mode!r}: use bridge, bond "
                                 "or mixed.")
        need = {"bridge": ("contrast",), "bond": ("similar",),
                "mixed": ("contrast", "similar")}[self.mode]
        for name in need:
            if not getattr(self, name):
                raise ParameterError(f"Mode {self.mode} needs ", Param(name), " features.")
        for name in ("contrast", "similar"):
            unknown = sorted(set(getattr(self, name)) - set(features))
            if unknown:
                raise ParameterError(f"Unknown feature(s) {unknown} in ", Param(name),
                                     f"; known: {', '.join(features)}.")
        if self.different is not None and self.different not in DIFFERENT:
            raise ParameterError(Param("different"), f" {self.different!r}: use region or "
                                 "nation.")
        if self.band is not None and not self.band > 0:
            raise ParameterError(Param("band"), f" must be above 0 standard deviations "
                                 f"(got {self.band:g}).")
        for name in ("min_km", "max_km"):
            km = getattr(self, name)
            if km is not None and not km >= 0:
                raise ParameterError(Param(name), f" must be a distance of 0 km or more "
                                     f"(got {km:g}).")
        if self.min_km is not None and self.max_km is not None and self.min_km > self.max_km:
            raise ParameterError(Param("min_km"), " is larger than ", Param("max_km"), ".")


def _features(text: str | None) -> tuple[str, ...]:
    return tuple(f.strip() for f in (text or "").split(",") if f.strip())


def twin_spec(*, places: str = "lad", mode: str = "bridge", contrast: str | None = None,
              similar: str | None = None, min_km: float | None = None,
              max_km: float | None = None, different: str | None = None,
              members: frozenset[str] = frozenset(), within: bool | None = None,
              fixed: Sequence[tuple[str, str]] = (), forbidden: Sequence[tuple[str, str]] = (),
              leave_out: frozenset[str] = frozenset(), band: float | None = None,
              keep_imputed: bool = False) -> TwinSpec:
    """The spec of a twinning request as a person writes it.

    ``contrast`` and ``similar`` are comma-separated feature names; left out,
    they default to the place set's (:func:`default_contrast`; ``population``
    for districts, nothing for postcode places).  Contrast features are not
    used in bond mode; similarity features count in every mode: in bridge mode
    as a band (pairs at most ``band`` standard deviations apart on each, default
    :data:`BAND_SD`), in bond and mixed modes in the weights too.  ``within``
    (None: no network) pairs the network's ``members`` with each other
    (True) or with non-members (False).

    Raises
    ------
    ParameterError
        For an unknown mode or divide (the rest is checked by :meth:`TwinSpec.check`).
    """
    if mode not in MODE:
        raise ParameterError("Unknown ", Param("mode"), f" {mode!r}: use bridge, bond or mixed.")
    if different is not None and different not in DIFFERENT:
        raise ParameterError(Param("different"), f" {different!r}: use region or nation.")
    want_c = _features(contrast) if contrast is not None else default_contrast(places)
    want_s = _features(similar) if similar is not None else (
        ("population",) if places == "lad" else ())
    return TwinSpec(
        mode=MODE.check(mode), contrast=want_c if mode != "bond" else (),
        similar=want_s, band=band if band is not None or not want_s else BAND_SD,
        keep_imputed=keep_imputed, min_km=min_km, max_km=max_km,
        different=None if different is None else DIFFERENT.check(different),
        network=members, network_rule=None if within is None else (
            "within" if within else "cross"),
        fixed=tuple(fixed), forbidden=tuple(forbidden), leave_out=leave_out)
