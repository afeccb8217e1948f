"""The `shelter-match` command line (CONTRACT §1).

Commands that belong to other packages plug in through the `shelter_match.cli` entry
point group (seed: `seed/cli.py`; serve and demo: `app/cli.py`), so the imports keep
pointing one way. Every failure ends in one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from importlib.metadata import entry_points

import click
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from shelter_match.clock import Clock, rfc3339, system_clock
from shelter_match.config import Settings, load_settings
from shelter_match.database_roles import grant_service_role
from shelter_match.db import check_connection, create_database_engine, make_session_factory
from shelter_match.errors import DatabaseUnavailable, ShelterMatchError, ValidationFailed
from shelter_match.migrate import current_revision, head_revision, upgrade
from shelter_match.models import ROLES
from shelter_match.services import audit, retention, users
from shelter_match.services import holds as hold_service
from shelter_match.services import quotas as quota_service
from shelter_match.services import signals as signal_service

PROGRAM = "shelter-match"


@dataclass
class CommandContext:
    """What every command needs: settings, a database, a clock."""

    settings: Settings
    clock: Clock = field(default=system_clock)

    @cached_property
    def engine(self) -> Engine:
        engine = create_database_engine(self.settings.database_url)
        check_connection(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def require_schema(self) -> None:
        """Fail with one line when the schema is missing or behind."""
        if current_revision(self.engine) != head_revision():
            raise ShelterMatchError("the database schema is not up to date; run "
                                    f"`{PROGRAM} db upgrade` first")


pass_context = click.make_pass_decorator(CommandContext)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """National placement service for the vrouwenopvang."""
    if ctx.obj is None:
        ctx.obj = CommandContext(settings=load_settings())


@cli.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@pass_context
def db_upgrade(context: CommandContext) -> None:
    """Create or upgrade the schema to the newest migration."""
    upgrade(context.engine)
    click.echo(f"database at revision {current_revision(context.engine)}")


@db.command("grant")
@click.option("--role", required=True, metavar="ROLE",
              help="The service's own PostgreSQL role (owns nothing), e.g. shelter_match_app.")
@pass_context
def db_grant(context: CommandContext, role: str) -> None:
    """Grant the service's role its privileges (run as the owner, after each upgrade)."""
    context.require_schema()
    statements = grant_service_role(context.engine, role)
    for statement in statements:
        click.echo(statement)
    click.echo(f"granted {role}: read and write, the audit log append-only")


@cli.command("matcher")
@click.option("--period", type=click.FloatRange(0.1, 600), default=None,
              help="Seconds between runs that nothing woke (default 5): expiry, escalation.")
@pass_context
def matcher_command(context: CommandContext, period: float | None) -> None:
    """Run the matcher: waiting list, offers, expiry (one active among many)."""
    import logging
    import signal
    import threading

    from shelter_match.matcher import PERIOD_SECONDS, Matcher, serve_guarded

    context.require_schema()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo("matcher: started; standing by until it is the active one", err=True)
    serve_guarded(Matcher(context.engine, context.clock, period=period or PERIOD_SECONDS),
                  stop)
    click.echo("matcher: stopped", err=True)


@cli.group()
def user() -> None:
    """Manage users, their API tokens and their passwords."""


expires_option = click.option(
    "--expires-in-days", type=click.IntRange(1, 3650), default=None,
    help="Let the token expire after this many days (default: until revoked).",
)


def _expiry(now: datetime, days: int | None) -> datetime | None:
    return None if days is None else now + timedelta(days=days)


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, help=f"One of: {', '.join(ROLES)}.")
@click.option("--region", "region_codes", multiple=True,
              help="Region code: one for a region_reviewer; any number for a duty_officer "
                   "(none: the national duty).")
@click.option("--location", "location_ids", multiple=True, help="Location id (coordinator).")
@click.option("--organisation", help="Organisation name (crisis_worker): its crisis workers "
              "share its requests; created on first use. Omitted: she is her own.")
@expires_option
@pass_context
def user_add(context: CommandContext, name: str, role: str, region_codes: tuple[str, ...],
             location_ids: tuple[str, ...], expires_in_days: int | None,
             organisation: str | None) -> None:
    """Create a user and print her new API token on the last line."""
    context.require_schema()
    if role != "duty_officer" and len(region_codes) > 1:
        raise ValidationFailed({"region": ["Only a duty_officer may have several regions."]})
    now = context.clock.now()
    with context.sessions.begin() as session:
        created, token = users.create_user(
            session,
            name=name,
            role=role,
            region_code=(region_codes[0] if region_codes and role != "duty_officer"
                         else None),
            duty_region_codes=region_codes if role == "duty_officer" else (),
            location_ids=location_ids,
            now=now,
            token_expires_at=_expiry(now, expires_in_days),
            organisation=organisation,
        )
        click.echo(f"created user {created.name} ({created.role})")
    click.echo(token)


@user.command("token")
@click.argument("name")
@expires_option
@pass_context
def user_token(context: CommandContext, name: str, expires_in_days: int | None) -> None:
    """Issue an additional API token for a user and print it on the last line."""
    context.require_schema()
    now = context.clock.now()
    with context.sessions.begin() as session:
        token = users.new_token_for(session, name, now, expires_at=_expiry(now, expires_in_days))
    click.echo(token)


@user.command("revoke")
@click.argument("name")
@pass_context
def user_revoke(context: CommandContext, name: str) -> None:
    """Revoke every API token of a user and end her web sessions, at once."""
    context.require_schema()
    with context.sessions.begin() as session:
        count = users.revoke_tokens(session, name, context.clock.now())
    click.echo(f"revoked {count} token(s) of {name}")


@user.command("disable")
@click.argument("name")
@pass_context
def user_disable(context: CommandContext, name: str) -> None:
    """Disable a user: end every token and web session at once and refuse her sign-in."""
    context.require_schema()
    with context.sessions.begin() as session:
        done = users.disable_user(session, name, context.clock.now())
    state = "was already disabled" if done.already else "disabled"
    click.echo(f"{name} {state}: revoked {done.tokens} token(s), ended "
               f"{done.web_sessions} web session(s)")


@user.command("enable")
@click.argument("name")
@pass_context
def user_enable(context: CommandContext, name: str) -> None:
    """Let a disabled user sign in again (her old tokens stay revoked)."""
    context.require_schema()
    with context.sessions.begin() as session:
        enabled = users.enable_user(session, name, context.clock.now())
    if enabled:
        click.echo(f"{name} enabled: she may sign in again; her old tokens stay revoked "
                   f"(`{PROGRAM} user token {name}` issues a new one)")
    else:
        click.echo(f"{name} was not disabled")


@user.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@pass_context
def user_set_password(context: CommandContext, name: str, password_stdin: bool) -> None:
    """Set the password she signs in to the web pages with (ends her web sessions)."""
    context.require_schema()
    with context.sessions() as session:
        users.find_user(session, name)  # fail on an unknown name before asking
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True,
                                confirmation_prompt="Repeat the password")
    with context.sessions.begin() as session:
        users.set_password(session, name, password, context.clock.now())
    click.echo(f"password set for {name}")


@user.command("quotas")
@click.argument("name")
@click.option("--requests-per-hour", type=int, default=None, metavar="N",
              help="Placement requests she may make in an hour.")
@click.option("--proposals-per-hour", type=int, default=None, metavar="N",
              help="Proposals she may be shown in an hour (a joint proposal counts each).")
@click.option("--reset", is_flag=True, help="Give her the policy's quotas again.")
@pass_context
def user_quotas(context: CommandContext, name: str, requests_per_hour: int | None,
                proposals_per_hour: int | None, reset: bool) -> None:
    """Show or set a user's own hourly quotas (audited); without options, show them."""
    context.require_schema()
    values: dict[str, int | None] = {}
    if reset:
        values = dict.fromkeys(quota_service.KINDS)
    if requests_per_hour is not None:
        values["requests_per_hour"] = requests_per_hour
    if proposals_per_hour is not None:
        values["proposals_per_hour"] = proposals_per_hour
    now = context.clock.now()
    with context.sessions.begin() as session:
        if values:
            shown = quota_service.set_user_quotas(session, name, values, actor=None, now=now)
        else:
            shown = quota_service.quotas_of(session, name, now)
    for kind, limit, used in (
        ("requests_per_hour", shown.requests_per_hour, shown.requests_used),
        ("proposals_per_hour", shown.proposals_per_hour, shown.proposals_used),
    ):
        source = "own" if kind in shown.own else "policy"
        click.echo(f"{kind}\t{limit}\t({source}; {used} used in the last hour)")


@cli.group("audit", invoke_without_command=True)
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="From this UTC date or time.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="Before this UTC date or time.")
@click.option("--user", "actor_name", help="Only what this user did.")
@click.option("--action", help="Only this action, e.g. address.disclosed.")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=1000, show_default=True)
@click.pass_context
def audit_log(ctx: click.Context, since: datetime | None, until: datetime | None,
              actor_name: str | None, action: str | None, limit: int) -> None:
    """List the audit log, oldest first, one event per line (tab-separated)."""
    if ctx.invoked_subcommand is not None:
        return
    context: CommandContext = ctx.obj
    context.require_schema()
    with context.sessions() as session:
        events = audit.list_events(
            session,
            since=since.replace(tzinfo=UTC) if since else None,
            until=until.replace(tzinfo=UTC) if until else None,
            actor_name=actor_name,
            action=action,
            limit=limit,
        )
        for event in events:
            click.echo("\t".join([
                rfc3339(event.at),
                event.actor_name or "-",
                event.action,
                f"{event.object_type}:{event.object_id or '-'}",
                json.dumps(event.detail, sort_keys=True, separators=(",", ":")),
            ]))


@audit_log.command("verify")
@click.option("--anchor", metavar="HASH",
              help="A head printed by an earlier verify, kept elsewhere: fail if the chain "
                   "no longer holds it (newest events removed, or the chain rewritten).")
@pass_context
def audit_verify(context: CommandContext, anchor: str | None) -> None:
    """Check the audit log's hash chain; exit non-zero naming the first event changed."""
    context.require_schema()
    with context.engine.connect() as connection:
        report = audit.verify_chain(connection, anchor=anchor)
    if report.problem is not None:
        raise ShelterMatchError(f"audit trail broken: {report.problem}")
    if report.anchor_found is False:
        raise ShelterMatchError(f"audit trail broken: the anchor {anchor} is not in the chain "
                                "(its newest events were removed, or it was rewritten)")
    click.echo(f"audit trail intact: {report.events} event(s), head {report.head}")


@audit_log.command("signals")
@click.option("--hours", type=int, default=signal_service.DEFAULT_HOURS, show_default=True,
              help=f"Look back this many hours (at most {signal_service.MAX_HOURS}).")
@pass_context
def audit_signals(context: CommandContext, hours: int) -> None:
    """List users whose last hours look like probing for where shelters are."""
    context.require_schema()
    with context.sessions() as session:
        report = signal_service.probing_signals(session, now=context.clock.now(), hours=hours)
    click.echo(f"# {rfc3339(report.since)} to {rfc3339(report.until)}; a user is listed when "
               "a signal reaches its threshold (*):")
    for threshold in report.thresholds:
        click.echo(f"#   {threshold.signal} >= {threshold.at_least}: {threshold.why}")
    if not report.users:
        click.echo("no user shows a probing pattern")
    for found in report.users:
        cells = [f"{signal}={found.counts[signal]}{'*' if signal in found.flagged else ''}"
                 for signal in signal_service.SIGNALS]
        click.echo("\t".join([found.user_name, found.role, *cells]))


@cli.command("purge")
@click.option("--older-than", "older_than_days", type=int, required=True, metavar="DAYS",
              help="Erase client details of requests closed more than DAYS days ago.")
@pass_context
def purge(context: CommandContext, older_than_days: int) -> None:
    """Erase case references and points of long-closed requests; close abandoned ones."""
    context.require_schema()
    with context.sessions.begin() as session:
        result = retention.purge(session, older_than_days=older_than_days,
                                 now=context.clock.now())
    click.echo(f"purged {result.requests} request(s), {result.idempotency_keys} replay record(s); "
               f"closed {result.closed_open_requests} request(s) left open")


@cli.group()
def holds() -> None:
    """Look after holds."""


@holds.command("sweep")
@pass_context
def holds_sweep(context: CommandContext) -> None:
    """Write down expired holds and free their units (tidying only; safe at any time)."""
    context.require_schema()
    with context.sessions.begin() as session:
        result = hold_service.sweep_expired(session, now=context.clock.now())
    click.echo(f"expired {result.holds} hold(s), freed {result.units} unit(s)")


def _load_plugin_commands() -> None:
    for entry_point in entry_points(group="shelter_match.cli"):
        command = entry_point.load()
        cli.add_command(command, entry_point.name)


def one_line(error: BaseException) -> str:
    """Return an error as one line for stderr."""
    if isinstance(error, ValidationFailed):
        parts = [f"{name}: {' '.join(messages)}" for name, messages in error.errors.items()]
        return "; ".join(parts)
    if isinstance(error, click.ClickException):
        return error.format_message()
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    _load_plugin_commands()
    try:
        cli.main(args=argv, prog_name=PROGRAM, standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        click.echo(f"{PROGRAM}: aborted", err=True)
        return 1
    except click.UsageError as error:
        click.echo(f"{PROGRAM}: {one_line(error)} (see `{PROGRAM} --help`)", err=True)
        return 2
    except (ShelterMatchError, click.ClickException) as error:
        click.echo(f"{PROGRAM}: error: {one_line(error)}", err=True)
        return 1
    except OperationalError as error:
        click.echo(f"{PROGRAM}: error: {one_line(DatabaseUnavailable(str(error.orig)))}", err=True)
        return 1
    except SQLAlchemyError as error:
        click.echo(f"{PROGRAM}: error: database error ({type(error).__name__})", err=True)
        _debug_traceback()
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the last guard: a bug, still no traceback for the user
        click.echo(f"{PROGRAM}: unexpected error: {type(error).__name__}", err=True)
        _debug_traceback()
        return 1
    return 0


def _debug_traceback() -> None:
    if os.environ.get("SHELTER_MATCH_DEBUG"):
        traceback.print_exc()


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
