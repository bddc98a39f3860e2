"""Readable output of analysis results (one payload for table, JSON and CSV)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from rich.console import Console

from keycities._util.plain import strict_json
from keycities.cli.output import Format, format_number, print_frame, text
from keycities.present.payloads import headline_payload

if TYPE_CHECKING:  # the results' modules load only with the command that makes them
    from keycities.analysis.claims.registry import Audit
    from keycities.analysis.headline.core import Headline
    from keycities.analysis.places.peers import PeerResult
    from keycities.analysis.productivity.core import ProductivityResult, Sensitivity
    from keycities.analysis.referendum.core import ReferendumResult
    from keycities.analysis.twinning.twinning import TwinResult

SHORT = {"Great Britain": "GB", "United Kingdom": "UK", "UK less Extra-Regio": "UK*"}


def print_headline(h: Headline, fmt: Format) -> None:
    """Print a headline result.

    Parameters
    ----------
    h
        The result.
    fmt
        table (figures, then notes: members, mapping, releases), json (the
        whole payload of :func:`headline_payload`) or csv (one row per figure).
    """
    if fmt is not Format.table:
        print_frame(h.to_frame(), fmt, payload=headline_payload(h))
        return
    console = Console()
    rows = []
    for f in h.figures:
        shares = "; ".join(f"{format_number(v, 'share')} of {SHORT.get(k, k)}"
                           for k, v in f.shares.items())
        rows.append({
            "figure": f.label, "value": _value(f.value, f.unit), "period": f.period_label,
            "share": shares if f.value is not None else "",
            "members": f"{f.members} ({f.members_estimated} est.)" if f.members_estimated
            else str(f.members),
            "source": f.release_id or "",
        })
    title = (f"{h.network_name} on {h.at} ({len(h.members)} members, "
             f"{h.member_vintage} boundaries)")
    notes = list(h.notes)
    if any("UK less Extra-Regio" in f.shares for f in h.figures):
        notes.append("UK* = UK less Extra-Regio (offshore activity not assigned to a region).")
    for f in h.figures:
        if f.unavailable:
            notes.append(f"{f.label}: unavailable — {f.unavailable}")
        notes.extend(f"{f.label}: {n}" for n in f.notes)
    for r in h.releases.itertuples():
        notes.append(f"{r.id}: {r.publisher}, {r.title}, published {r.published:%d %b %Y}. "
                     f"{r.url}")
    print_frame(pd.DataFrame(rows), Format.table, title=title, notes=notes, console=console)


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "unavailable"
    if unit == "£ million":
        return f"£{value / 1000:,.1f}bn"
    return f"{value:,.0f}"


def print_audit(audit: Audit, fmt: str) -> None:
    """Print the claims audit as a table, JSON, CSV or a Markdown report."""
    # deferred: loaded per command (the claims analysis and report), keeping start-up quick
    from keycities.analysis.claims.registry import VERDICTS
    from keycities.present.claims import audit_markdown

    if fmt == "markdown":
        sys.stdout.write(audit_markdown(audit))
        return
    df = audit.to_frame()
    if fmt != "table":
        print_frame(df, Format(fmt), payload=audit.payload())
        return
    counts = df["verdict"].value_counts().to_dict()
    title = ("Claims audit: " + ", ".join(f"{counts.get(v, 0)} {v}" for v in
                                          VERDICTS))
    notes = [f"{c}: {r}" for c, r in zip(df["claim"], df["reasons"], strict=True) if r]
    notes.append("`keycities claims audit --format markdown` writes the full report.")
    shown = df[["claim", "claimed", "ours", "verdict", "basis"]].rename(
        columns={"ours": "ours (closest)"})
    print_frame(shown, Format.table,
                title=title, notes=notes, console=Console())


def print_referendum(result: ReferendumResult, fmt: Format) -> None:
    """Print referendum results: members, the network total, GB and UK, with notes."""
    df = result.to_frame()
    if fmt is not Format.table:
        print_frame(df, fmt, payload=result.payload())
        return
    keep = df[(df["kind"] != "comparison")
              | df["name"].isin(["Great Britain", "United Kingdom (as declared)"])]
    keep = keep.assign(combined=[a if pd.notna(n) and n > 1 and k == "member" else ""
                                 for a, n, k in zip(keep["counting_areas"],
                                                    keep["n_counting_areas"], keep["kind"],
                                                    strict=True)])
    cols = ["name", "leave", "remain", "leave_share", "turnout", "combined"]
    shown = keep[cols].rename(columns={"leave_share": "leave %", "turnout": "turnout %",
                                       "combined": "counting areas added"})
    print_frame(shown.reset_index(drop=True), Format.table,
                title=f"EU referendum 2016: {result.network_name}", notes=list(result.notes),
                console=Console(), units={"leave %": "share", "turnout %": "share"})


def print_productivity(result: ProductivityResult, fmt: Format) -> None:
    """Print the per-member uplift table with its Total row, and the notes (formula
    first).  CSV has every column and the Total row last (kind 'total'); JSON is
    the whole payload; the table leaves out codes and marks estimates with '*'."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from rich.table import Table

    from keycities.analysis.productivity.core import pounds

    df = result.to_frame()
    if fmt is not Format.table:
        print_frame(df, fmt, payload=result.payload())
        return
    spec, b, ctx = result.measure, result.benchmark, result.context
    unit = ",.0f" if spec.key == "job" else ",.2f"

    def cash(v: Any, how: str = unit, scale: float = 1.0, end: str = "") -> str:
        if pd.isna(v):
            return "—"
        return f"{'−' if v < 0 else ''}£{abs(v) / scale:{how}}{end}"

    table = Table(title=text(f"Productivity gap: {ctx.get('name', '')} on {ctx.get('at', '')}, "
                             f"base year {result.base_year}; B = {pounds(b.value, spec)} per "
                             f"{spec.key} ({b.label}, {b.basis} basis)"), title_justify="left")
    table.add_column("member", overflow="fold", min_width=12)
    for head in (f"GVA/{spec.key}", f"gap/{spec.key}", spec.labour_short, "uplift a year",
                 f"over {result.scenario.horizon} years"):
        table.add_column(head, justify="right")
    labour = "filled_jobs" if spec.key == "job" else "hours_per_year"
    for v in df.to_dict(orient="records"):
        star = "*" if v["estimate"] and v["kind"] == "member" else ""
        table.add_row(text(f"{v['name']}{star}"), cash(v[f"gva_per_{spec.key}"]),
                      cash(v[f"gap_per_{spec.key}"]),
                      "—" if pd.isna(v[labour]) else f"{v[labour]:,.0f}",
                      cash(v["annual_uplift"], ",.2f", 1e9, "bn"),
                      cash(v["cumulative_uplift"], ",.2f", 1e9, "bn"))
    notes = list(result.notes)
    if result.members["estimate"].any():
        notes.insert(0, "* estimate: see the member's note below.")
    _print_with_notes(table, notes)


def _print_with_notes(table: Any, notes: list[str]) -> None:
    """A Rich table, then its notes as dim bullets (printed as text, not markup)."""
    console = Console()
    console.print(table)
    for note in notes:
        console.print(text(f"• {note}", style="dim"), highlight=False)


def print_sensitivity(result: Sensitivity, fmt: Format) -> None:
    """Print the sensitivity table: £bn to 2 decimals (JSON and CSV keep full precision)."""
    from rich import box
    from rich.table import Table

    df = result.to_frame()
    if fmt is not Format.table:
        print_frame(df, fmt, payload=result.payload())
        return
    ctx, years = result.context, sorted(df["base_year"].dropna().astype(int).unique())
    table = Table(title=text(f"Productivity gap: sensitivity, {ctx.get('name', '')} on "
                             f"{ctx.get('at', '')}, base year "
                             f"{', '.join(map(str, years)) or '—'}"),
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
    cols = ["measure", "benchmark", "basis", "B (£)", "path", "H", "£bn a year", "£bn over H"]
    for c in cols:  # only the £bn headers wrap: the cells stay whole
        table.add_column(c, no_wrap=c not in cols[6:], justify="left" if c in (
            "measure", "benchmark", "basis", "path") else "right")

    def num(v: Any, how: str) -> str:
        return "—" if v is None or v != v else f"{v:{how}}"

    for r in df.itertuples(index=False):
        table.add_row(str(r.measure), str(r.benchmark), str(r.basis),
                      num(r.benchmark_value, ",.0f" if r.measure == "job" else ",.2f"),
                      str(r.path), str(r.horizon), num(r.annual_bn, ",.2f"),
                      num(r.cumulative_bn, ",.2f"))
    gone = df[df["unavailable"].notna()].drop_duplicates(["measure", "unavailable"])
    notes = [*result.notes, *(f"Unavailable ({m}): {u}" for m, u in zip(
        gone["measure"], gone["unavailable"], strict=True))]
    _print_with_notes(table, notes)


def print_peers(result: PeerResult, fmt: Format) -> None:
    """Print a peer group: rank, name, distance, top features, stability; then notes."""
    df = result.to_frame()
    if fmt is not Format.table:
        print_frame(df, fmt, payload=result.payload())
        return
    shown = df[["rank", "name", "region", "distance", "top_features", "stability_weights",
                "stability_drop"]].rename(columns={
                    "stability_weights": "stays (weights)", "stability_drop": "stays (drop)"})
    shown["distance"] = shown["distance"].round(3)
    print_frame(shown, Format.table, title=f"Peers of {result.name} ({result.place})",
                notes=list(result.notes), console=Console(),
                units={"stays (weights)": "share", "stays (drop)": "share"})


def write_json_atomic(path: Path, data: Any) -> None:
    """Write strict JSON to ``path`` via a temporary file and an atomic rename; the file's
    mode follows the umask (as any file the user writes: 0644 with the usual 022)."""
    import os
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    # open(..., "x") creates with 0666 & ~umask (mkstemp would make it 0600)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
    try:
        with tmp.open("x", encoding="utf-8") as f:
            f.write(strict_json(data, indent=None))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def print_twins(result: TwinResult, fmt: Format, *, members: frozenset[str]) -> None:
    """Print the pairs with their explanations, the certificate and the unpaired."""
    if fmt is not Format.table:
        print_frame(result.to_frame(), fmt, payload=result.payload())
        return
    shown = result.pairs[["name_a", "name_b", "km", "weight", "why"]].copy()
    shown["weight"] = shown["weight"].round(3)
    from keycities.present.labels import certificate_words

    headline, detail = certificate_words(result.objective, result.bound, result.method)
    notes = [f"{headline} ({detail}).", *result.notes]
    un = result.unpaired
    if members:
        outside = int((~un["code"].isin(list(members))).sum())
        un = un[un["code"].isin(list(members))]
        if outside:
            notes.append(f"{outside} places outside the network are unpaired, as asked "
                         "(they may only pair with members).")
    notes.extend(f"Unpaired: {r['name']} ({r['code']}): {r['why']}"
                 for r in un.to_dict(orient="records"))
    print_frame(shown, Format.table, title=f"Twins: {len(shown)} pairs", notes=notes,
                console=Console())
