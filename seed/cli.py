"""`shelter-match seed …`: load regions and demo data (plugged into the main CLI)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click

from seed.history import load_history
from seed.loaders import (
    DEMO_SCOPES,
    DemoUserToken,
    seed_demo,
    seed_regions,
    set_demo_passwords,
)
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
@click.option("--history-days", type=click.IntRange(0, 3660), default=90, show_default=True,
              help="Days of placement history to generate (0: none); kept if already loaded.")
@click.option("--web-passwords", is_flag=True,
              help="Also give each demo user a password for the web pages (the same at every "
                   "run on this machine), and print it.")
@click.option("--table", is_flag=True,
              help="Print one labelled row per demo user (role, name, what she may see, "
                   "password, token) instead of the plain lines.")
@pass_context
def demo(context: CommandContext, scale: int, seed_value: int, history_days: int,
         web_passwords: bool, table: bool) -> None:
    """Load regions, demo locations with units, their history and one demo user per role."""
    context.require_schema()
    key = demo_password_key(context.settings.instance_path) if web_passwords else b""
    with context.sessions.begin() as session:
        tokens = seed_demo(session, scale=scale, seed=seed_value, now=context.clock.now(),
                           history_days=history_days)
        passwords = set_demo_passwords(session, context.clock.now(), key) if web_passwords else {}
    if table:
        print_table(tokens, passwords)
        return
    for entry in tokens:
        click.echo(f"{entry.role:16} {entry.name:22} {entry.token}")
    for name, password in passwords.items():
        click.echo(f"web sign-in      {name:22} password {password}")


TABLE_COLUMNS = ("role", "name", "may see", "password", "API token")


def print_table(tokens: list[DemoUserToken], passwords: dict[str, str]) -> None:
    """Print the demo users as a table with a header line."""
    rows = [(entry.role, entry.name, DEMO_SCOPES.get(entry.role, "what her role allows"),
             passwords.get(entry.name, "-"), entry.token) for entry in tokens]
    widths = [max(len(row[column]) for row in [TABLE_COLUMNS, *rows])
              for column in range(len(TABLE_COLUMNS))]
    for row in [TABLE_COLUMNS, tuple("-" * width for width in widths), *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                       strict=True)).rstrip())


DEMO_PASSWORD_KEY = "demo-password-key"  # noqa: S105 - a file name, not a secret


def demo_password_key(folder: Path) -> bytes:
    """Return this instance's key for the demo passwords, creating it (mode 600) once."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DEMO_PASSWORD_KEY
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_bytes(32))
    return path.read_bytes()


@seed.command("history")
@click.option("--days", type=click.IntRange(0, 3660), default=90, show_default=True,
              help="Days of history before now (0: remove the demo history).")
@click.option("--seed", "seed_value", type=int, default=0, show_default=True,
              help="The same seed and network give the same history.")
@pass_context
def history(context: CommandContext, days: int, seed_value: int) -> None:
    """Replace the demo placement history of the network in the database."""
    context.require_schema()
    with context.sessions.begin() as session:
        loaded = load_history(session, now=context.clock.now(), days=days, seed=seed_value)
    click.echo(f"history: {loaded} placements over {days} days")
