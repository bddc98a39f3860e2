"""`keycities build`: progress while it runs, then a readable summary."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from keycities.cli.output import Format, markup_safe, print_frame
from keycities.context import Context
from keycities.store.build import build_store
from keycities.store.report import BuildReport
from keycities.store.staging import staged


def run_build(ctx: Context, names: Sequence[str] | None, *, force: bool, fmt: Format,
              console: Console) -> bool:
    """Build the store with a status line per step; print the outcome; True if no failure."""
    with console.status("Building the evidence store…") as status, \
            staged(ctx.settings.store) as store:

        def observe(message: str) -> None:
            status.update(f"Building the evidence store: {message}")

        report = build_store(store, ctx.settings, only=names, force=force, observer=observe)
    _summarise(report, fmt, console, ctx)
    return report.ok


def _summarise(report: BuildReport, fmt: Format, console: Console, ctx: Context) -> None:
    df = report.to_frame()
    if fmt is not Format.table:
        print_frame(df, fmt)
        return
    counts = df["status"].value_counts().to_dict()
    console.print(
        f"[bold]Store[/bold] {markup_safe(ctx.settings.store)}: "
        + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("loaded", "unchanged", "missing",
                                                         "failed"))
        + f" in {report.seconds:.1f} s",
        highlight=False,
    )
    for o in report.outcomes:
        if o.status == "loaded" and o.message:  # a damaged file was met and worked around
            console.print(f"[yellow]Note[/yellow] {markup_safe(o.message)}", highlight=False)
    trouble = df[df["status"].isin(["missing", "failed"])].copy()
    if len(trouble):
        # A missing official file: show where to get it; anything else: say what happened.
        urls = {o.release.id: o.release.url for o in report.outcomes
                if o.release.mirror_path is not None}
        trouble["official file"] = [
            urls[r] if s == "missing" and r in urls else m
            for r, s, m in zip(trouble["release"], trouble["status"], trouble["message"],
                               strict=True)
        ]
        print_frame(trouble[["source", "release", "status", "official file"]], Format.table,
                    title="Not loaded", console=console)
        if (trouble["status"] == "missing").any():
            console.print(
                "Figures from these releases are unavailable. To get them, point "
                "--mirror / KEYCITIES_MIRROR at a copy of the official files, or run "
                "`keycities fetch` where the official URLs are reachable.",
                highlight=False,
            )
