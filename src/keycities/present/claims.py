"""The claims audit as a report a person can read (Markdown)."""

from __future__ import annotations

import pandas as pd

from keycities.analysis.claims.registry import VERDICTS, Audit, Finding, fmt


def audit_markdown(audit: Audit) -> str:
    """The audit as a Markdown report: summary, table, then each claim in full."""
    df = audit.to_frame()
    counts = df["verdict"].value_counts().to_dict()
    lines = [
        "# Key Cities claims audit",
        "",
        f"{len(df)} claims from the Key Cities' documents, recomputed by keycities from "
        "official statistics: " + ", ".join(f"{counts.get(v, 0)} {v}" for v in
                                           VERDICTS) + ".",
        "",
        "| claim | document | claimed | ours (closest) | verdict |",
        "|---|---|---|---|---|",
    ]
    for r in df.itertuples():
        lines.append(f"| {r.claim} | {r.document} | {r.claimed} | {r.ours} | {r.verdict} |")
    for f in audit.findings:
        lines.extend(_finding_markdown(f))
    lines.extend(_releases_markdown(audit.releases))
    return "\n".join(lines) + "\n"


def _finding_markdown(f: Finding) -> list[str]:
    c = f.claim
    out = ["", f"## {c.id}: {f.verdict}", "",
           f"> {c.wording}", "",
           f"*Document {f.document.id}, {f.document.title} ({f.document.date_basis}).*", "",
           f"- Claimed: **{fmt(c.value, c.unit)}** ({c.qualifier}, to the nearest "
           f"{fmt(c.precision, c.unit)}); read as {f.reading}"]
    if f.ours is not None:
        out.append(f"- Ours for the latest year the document could have used: "
                   f"{fmt(f.ours.value, c.unit)} — {f.ours.label}")
    if f.closest is not None and f.closest is not f.ours:
        out.append(f"- Closest match: {fmt(f.closest.value, c.unit)} — {f.closest.label}")
    if f.gap is not None and f.verdict == "differs":
        gap = (f"{f.gap * 100:+.2f} percentage points" if c.unit == "share"
               else fmt(f.gap, c.unit))
        out.append(f"- Gap (closest − claimed): {gap}")
    out.extend(f"- {r[0].upper()}{r[1:]}" for r in f.reasons)
    if f.reference:
        out.append(f"- {f.reference[0].upper()}{f.reference[1:]}")
    return out


def _releases_markdown(releases: pd.DataFrame) -> list[str]:
    if releases.empty:
        return []
    out = ["", "## Sources", ""]
    for r in releases.to_dict(orient="records"):
        out.append(f"- `{r['id']}`: {r['publisher']}, *{r['title']}*, published "
                   f"{r['published']:%d %B %Y}. <{r['url']}> (sha256 `{str(r['sha256'])[:12]}…`)")
    return out
