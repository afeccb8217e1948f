"""`shelter-match region …`: see and change which region each gemeente belongs to.

Plugged into the main CLI through the `shelter_match.cli` entry point group, like `seed`.
"""

from __future__ import annotations

import click

from shelter_match.cli import CommandContext, pass_context
from shelter_match.services import places


@click.group()
def region() -> None:
    """See and change the gemeenten of the 35 regions."""


@region.command("show")
@click.argument("code")
@pass_context
def show(context: CommandContext, code: str) -> None:
    """List the gemeenten of a region (code, name), one per line."""
    context.require_schema()
    with context.sessions() as session:
        rows = places.gemeenten_of_region(session, code.upper())
        if not rows:
            raise click.ClickException(f"no gemeenten in region {code!r} (unknown code?)")
        for row in rows:
            click.echo(f"{row.gemeente_code}\t{row.gemeente_name}")


@region.command("move")
@click.argument("gemeente")
@click.option("--to", "region_code", required=True, metavar="CODE",
              help="The region code (its centrumgemeente's CBS code), e.g. GM0622.")
@pass_context
def move(context: CommandContext, gemeente: str, region_code: str) -> None:
    """Move a gemeente (CBS code or official name) to another region; audited."""
    context.require_schema()
    with context.sessions.begin() as session:
        row = places.find_gemeente(session, gemeente)
        before = row.region_code
        places.move_gemeente(session, gemeente, region_code.upper(), actor=None,
                             now=context.clock.now(), source="cli")
        if before == row.region_code:
            click.echo(f"{row.gemeente_name} ({row.gemeente_code}) is in {before} already")
        else:
            click.echo(f"moved {row.gemeente_name} ({row.gemeente_code}) from {before} "
                       f"to {row.region_code}")
