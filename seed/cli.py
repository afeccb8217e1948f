"""`shelter-match seed …`: load regions and demo data (plugged into the main CLI)."""

from __future__ import annotations

import click

from seed.loaders import seed_demo, seed_regions
from shelter_match.cli import CommandContext, pass_context


@click.group()
def seed() -> None:
    """Load seed data."""


@seed.command("regions")
@pass_context
def regions(context: CommandContext) -> None:
    """Load the 35 regions (centrumgemeenten); safe to run twice."""
    context.require_schema()
    with context.sessions.begin() as session:
        added, updated = seed_regions(session)
    click.echo(f"regions: {added} added, {updated} updated")


@seed.command("demo")
@click.option("--scale", type=click.IntRange(1, 100), default=1, show_default=True,
              help="1: a national network of about 100 locations; 10: ten times that.")
@click.option("--seed", "seed_value", type=int, default=0, show_default=True,
              help="The same seed gives the same data.")
@pass_context
def demo(context: CommandContext, scale: int, seed_value: int) -> None:
    """Load regions, demo locations with units and one demo user per role."""
    context.require_schema()
    with context.sessions.begin() as session:
        tokens = seed_demo(session, scale=scale, seed=seed_value, now=context.clock.now())
    for entry in tokens:
        click.echo(f"{entry.role:16} {entry.name:22} {entry.token}")
