"""``keycities claims``: the published claims and their audit."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from keycities.cli.options import (
    FormatOpt,
    MirrorOpt,
    StoreOpt,
    context,
)
from keycities.cli.output import Format, print_frame

app = typer.Typer(help="Published claims: the registry and its audit.",
                  no_args_is_help=True)


class ReportFormat(StrEnum):
    """Formats of the claims audit (a Markdown report as well)."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


@app.command("audit")
def claims_audit(
    store: StoreOpt = None, mirror: MirrorOpt = None,
    fmt: Annotated[ReportFormat, typer.Option(
        "--format", "-f", help="Output format; markdown gives a report.")] = ReportFormat.table,
) -> None:
    """Recompute every published claim and give it a verdict with reasons."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.claims.from_store import audit_from_store
    from keycities.cli.reporting import print_audit

    ctx = context(store, mirror)
    print_audit(audit_from_store(ctx.store), fmt.value)


@app.command("list")
def claims_list(store: StoreOpt = None, mirror: MirrorOpt = None,
                fmt: FormatOpt = Format.table) -> None:
    """The claims registry: each claim's wording, document, network and value."""
    import pandas as pd  # deferred: keeps `keycities --help` quick

    from keycities.analysis.claims.registry import load_claims

    docs, claims = load_claims()
    df = pd.DataFrame([{
        "claim": c.id, "document": c.document, "date": docs[c.document].date,
        "wording": c.wording, "metric": c.metric, "value": c.value, "unit": c.unit,
        "network": (f"{c.network.get('id', 'UK')} at {c.network.get('at', '')}".strip()
                    if c.network else f"unknown list of {c.members_unknown} members"),
    } for c in claims])
    print_frame(df, fmt, title="Claims in the Key Cities' documents")
