"""Places: peer groups (``keycities peers``) and twinning (``keycities twin``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keycities.analysis.places.params import PRESET
from keycities.analysis.twinning.spec import BAND_SD, DIFFERENT, MAX_KM, MODE
from keycities.cli.options import (
    AtOpt,
    FormatOpt,
    MirrorOpt,
    PlacesOpt,
    StoreOpt,
    context,
    parse_date,
    progress,
)
from keycities.cli.output import Format
from keycities.errors import KeycitiesError


def peers_cmd(
    place: Annotated[str, typer.Argument(help="A place name or GSS code (2023 boundaries).")],
    k: Annotated[int, typer.Option(help="How many peers.")] = 15,
    preset: Annotated[str, typer.Option(
        help=PRESET.help)] = "overall",
    exclude_network: Annotated[str | None, typer.Option(
        help="Leave out the members of this network (id or file) on --at.")] = None,
    at: AtOpt = None,
    exclude_same_region: Annotated[bool, typer.Option(
        help="Leave out places in the same region.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the stability perturbations.")] = 0,
    places: PlacesOpt = "lad",
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Nearest-neighbour peer group of a place, with each feature's part and its stability."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    import numpy as np

    from keycities.analysis.places.from_store import place_features
    from keycities.analysis.places.params import is_csv
    from keycities.analysis.places.peers import peers
    from keycities.cli.reporting import print_peers

    ctx = context(store, mirror)
    code = ctx.resolver.resolve(place, vintage=2023).code if places == "lad" else place
    exclude: frozenset[str] = frozenset()
    if exclude_network:
        members = ctx.network(exclude_network).members_at(parse_date(at))
        exclude = frozenset(members["code"])
    with progress(f"Building the features of the {places} places"):
        table = place_features(None if is_csv(places) else ctx.store, places)
    result = peers(table, code, weights=preset, k=k, exclude=exclude,
                   exclude_same_region=exclude_same_region, rng=np.random.default_rng(seed))
    print_peers(result, fmt)


def _pairs(values: list[str] | None, what: str) -> tuple[tuple[str, str], ...]:
    out = []
    for v in values or []:
        a, sep, b = v.partition(":")
        if not sep or not a or not b:
            raise KeycitiesError(f"{what} {v!r}: write two places as A:B (names or codes).")
        out.append((a, b))
    return tuple(out)


def twin_cmd(
    mode: Annotated[str, typer.Option(help=MODE.help)] = "bridge",
    contrast: Annotated[str | None, typer.Option(
        help="Features to contrast, comma-separated (default: leave_share,gva_per_job,"
             "earnings for lad; the eight OAC supergroup shares oac_1..oac_8 for postcode "
             "places).")] = None,
    similar: Annotated[str | None, typer.Option(
        help="Features to keep alike, comma-separated (default: population for lad; none "
             "for postcode places); in bridge mode pairs stay within --band of each.")] = None,
    band: Annotated[float | None, typer.Option(
        help=f"Pairs at most this many standard deviations apart on each --similar feature "
             f"(default {BAND_SD:g}).", min=0)] = None,
    keep_imputed: Annotated[bool, typer.Option(
        help="Keep places whose contrast or similarity features have no published value "
             "(imputed, flagged); by default they are left out.")] = False,
    min_km: Annotated[float | None, typer.Option(
        help="Pairs at least this far apart.", min=0, max=MAX_KM)] = None,
    max_km: Annotated[float | None, typer.Option(
        help="Pairs at most this far apart.", min=0, max=MAX_KM)] = None,
    different: Annotated[str | None, typer.Option(help=DIFFERENT.help)] = None,
    network: Annotated[str | None, typer.Option(
        help="A network (id or file) whose members on --at are paired.")] = None,
    at: AtOpt = None,
    within: Annotated[bool, typer.Option(
        help="With --network: pair members with each other (default: with non-members).")
                      ] = False,
    fixed: Annotated[list[str] | None, typer.Option(help="A pair to keep, A:B.")] = None,
    forbid: Annotated[list[str] | None, typer.Option(help="A pair to forbid, A:B.")] = None,
    leave_out: Annotated[list[str] | None, typer.Option(help="A place to leave out.")] = None,
    uk: Annotated[bool, typer.Option(help="Include Northern Ireland (default GB).")] = False,
    places: PlacesOpt = "lad",
    geojson: Annotated[Path | None, typer.Option(help="Also write the pairs as GeoJSON.")
                       ] = None,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Pair councils across divides (bridge) or alike (bond), optimally, with a certificate."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.places.params import is_csv
    from keycities.analysis.twinning.from_store import twin_from_store
    from keycities.analysis.twinning.spec import GB, twin_spec
    from keycities.cli.reporting import print_twins, write_json_atomic

    ctx = context(store, mirror)

    def code(q: str) -> str:
        return ctx.resolver.resolve(q, vintage=2023).code if places == "lad" else q

    members: frozenset[str] = frozenset()
    if network:
        members = frozenset(ctx.network(network).members_at(parse_date(at))["code"])
    spec = twin_spec(
        places=str(places), mode=mode, contrast=contrast, similar=similar, min_km=min_km,
        max_km=max_km, different=different, members=members,
        within=within if network else None,
        fixed=[(code(a), code(b)) for a, b in _pairs(fixed, "--fixed")],
        forbidden=[(code(a), code(b)) for a, b in _pairs(forbid, "--forbid")],
        leave_out=frozenset(code(q) for q in leave_out or []), band=band,
        keep_imputed=keep_imputed)
    with progress(f"Pairing the {places} places"):
        result = twin_from_store(None if is_csv(places) else ctx.store, spec, places=places,
                                 countries=None if uk else GB)
    if geojson is not None:
        write_json_atomic(geojson, result.geojson)
    print_twins(result, fmt, members=members)
