"""`shelter-match notify …`: notification channels, the delivery log, and the notifier loop.

Plugged into the main CLI through the `shelter_match.cli` entry point group, like `region`.
"""

from __future__ import annotations

import sys
import time

import click

from shelter_match.cli import CommandContext, pass_context
from shelter_match.clock import rfc3339
from shelter_match.services import delivery, escalation, notifications

# Escalations are due by time; the outbox is looked at this often, so that a notification
# follows within a minute (CONTRACT 4.4).
DEFAULT_INTERVAL_SECONDS = 15


@click.group()
def notify() -> None:
    """Notification channels, the delivery log, and the notifier loop."""


@notify.command("channel")
@click.argument("audience")
@click.option("--email", help="E-mail address to tell (omit to clear).")
@click.option("--webhook-url", help="http(s) URL to POST signed notifications to (omit to "
                                    "clear).")
@click.option("--webhook-secret-stdin", is_flag=True,
              help="Read the webhook's HMAC secret (32-200 characters) from standard input.")
@pass_context
def channel(context: CommandContext, audience: str, email: str | None,
            webhook_url: str | None, webhook_secret_stdin: bool) -> None:
    """Set where AUDIENCE is told: organisation:<id>, duty:<region code> or duty:national."""
    context.require_schema()
    secret = sys.stdin.readline().rstrip("\r\n") if webhook_secret_stdin else None
    with context.sessions.begin() as session:
        view = notifications.set_channel(session, audience, email=email,
                                         webhook_url=webhook_url, webhook_secret=secret,
                                         actor=None, now=context.clock.now())
    click.echo(f"{view.audience}: e-mail {view.email or '-'}, webhook {view.webhook_url or '-'}")


@notify.command("log")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@pass_context
def log(context: CommandContext, limit: int) -> None:
    """List the newest delivery attempts (tab-separated)."""
    context.require_schema()
    with context.sessions() as session:
        for attempt in delivery.delivery_log(session, limit=limit):
            click.echo("\t".join([rfc3339(attempt.attempted_at), attempt.channel,
                                  attempt.event, attempt.audience,
                                  "ok" if attempt.ok else "failed", attempt.detail]))


@notify.command("run")
@click.option("--once", is_flag=True, help="Look once and exit (for cron and tests).")
@click.option("--interval", type=click.FloatRange(0.1, 60), default=DEFAULT_INTERVAL_SECONDS,
              show_default=True, help="Seconds between looks.")
@pass_context
def run(context: CommandContext, once: bool, interval: float) -> None:
    """Put due escalations into the outbox and deliver it, retrying with backoff."""
    context.require_schema()
    settings = context.settings
    mail = delivery.MailSettings(settings.smtp_url, settings.mail_from, settings.base_url)
    while True:
        with context.sessions.begin() as session:
            queued = escalation.enqueue_due(session, now=context.clock.now())
        result = delivery.deliver_due(context.sessions, now=context.clock.now, mail=mail)
        if once:
            click.echo(f"queued {queued} escalation notification(s); delivered "
                       f"{result.delivered}, failed {result.failed} (retried later)")
            return
        time.sleep(interval)
