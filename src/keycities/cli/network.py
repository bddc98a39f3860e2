"""``keycities network``: who belonged to a network, and when."""

from __future__ import annotations

from typing import Annotated

import typer

from keycities.cli.options import (
    AtOpt,
    FormatOpt,
    MirrorOpt,
    NetworkArg,
    StoreOpt,
    context,
    parse_date,
)
from keycities.cli.output import Format, print_frame

PLAIN_MEMBER_COLUMNS = {"as_published": "as published", "joined": "joined (documented)",
                        "member_by": "member by", "joined_basis": "what the dates rest on",
                        "left_basis": "why it left"}
"""Column heads a person reads in a table (JSON and CSV keep the field names)."""

app = typer.Typer(help="Network membership: who belonged, and when.",
                  no_args_is_help=True)


@app.command("show")
def network_show(
    network: NetworkArg = "key-cities",
    at: AtOpt = None, store: StoreOpt = None, mirror: MirrorOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Members of a network on a date, with when and why they count as members."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.present.payloads import members_payload

    ctx = context(store, mirror)
    net = ctx.network(network)
    when = parse_date(at)
    lads = ctx.geography[0].set_index("code")["name"].to_dict()
    members, payload = members_payload(net, when, lads)
    shown = members[["code", "name", "as_published", "joined", "member_by", "left"]]
    if fmt is Format.table:
        shown = shown.rename(columns=PLAIN_MEMBER_COLUMNS)
    print_frame(shown, fmt,
                title=f"{net.name} on {when}: {len(members)} members", notes=payload["notes"],
                payload=payload)


@app.command("history")
def network_history(
    network: Annotated[str, typer.Argument(help="Network id or file.")] = "key-cities",
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Every membership with its join and leave dates and their bases."""
    ctx = context(store, mirror)
    df = ctx.network(network).memberships_frame().sort_values(["member_by", "as_published"])
    if fmt is Format.table:
        df = df.rename(columns=PLAIN_MEMBER_COLUMNS)
    print_frame(df.reset_index(drop=True), fmt, title="Membership history")
