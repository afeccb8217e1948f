"""`shelter-match serve` and `shelter-match demo` (plugged into the main CLI)."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable

import click
from gunicorn.app.base import BaseApplication
from sqlalchemy.engine import URL

from shelter_match.cli import PROGRAM, CommandContext, pass_context
from shelter_match.database_roles import runs_as_owner
from shelter_match.errors import ShelterMatchError


def hide_server_header() -> None:
    """Make gunicorn leave out its `Server: gunicorn` header (SECURITY.md: no banner).

    gunicorn has no setting for it: it writes the header in `Response.default_headers`.
    Called in the master before it forks, so every worker inherits it; by `serve` and by
    deploy/gunicorn.conf.py. A test over a real server sees that the header is gone, so a
    gunicorn upgrade that moves the header cannot pass unnoticed.
    """
    from gunicorn.http import wsgi

    original = wsgi.Response.default_headers
    if getattr(original, "hides_server_header", False):
        return

    def default_headers(self) -> list[str]:
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers.hides_server_header = True
    wsgi.Response.default_headers = default_headers


# What `serve` and deploy/gunicorn.conf.py share.
SERVER_SETTINGS = {
    # gthread, with a thread of its own for /healthz (app/workers.py).
    "worker_class": "app.workers.ProbeLaneWorker",
    "threads": 4,
    "timeout": 30,
    "graceful_timeout": 10,
    # gunicorn's control socket lives at one path per user ($HOME/.gunicorn/gunicorn.ctl):
    # two instances clobber each other's, and under the systemd unit $HOME is read-only.
    # Nothing here uses it.
    "control_socket_disable": True,
}


class GunicornServer(BaseApplication):
    """gunicorn, the production server, configured from our options."""

    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        hide_server_header()

    def load(self):
        from app import create_app

        return create_app()


def default_workers() -> int:
    return min(4, 2 * (os.cpu_count() or 1) + 1)


def ensure_port_free(host: str, port: int) -> None:
    """Fail with one line when the address is taken, before gunicorn starts."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            reason = "address in use" if error.errno == errno.EADDRINUSE else error.strerror
            raise ShelterMatchError(f"cannot listen on {host}:{port}: {reason}") from None


def run_server(host: str, port: int, workers: int, *, database_url: URL | None = None
               ) -> None:
    """Serve with gunicorn; on SQLite (`database_url`) with the matcher in the master."""
    ensure_port_free(host, port)
    options: dict = {"bind": f"{host}:{port}", "workers": workers, **SERVER_SETTINGS,
                     "accesslog": "-"}
    if database_url is not None and database_url.get_backend_name() == "sqlite":
        options["post_worker_init"] = embedded_matcher(database_url)
    GunicornServer(options).run()


def embedded_matcher(database_url: URL) -> Callable[[object], None]:
    """Return a gunicorn hook that starts the matcher in a thread of each worker.

    Not in the master: it forks, and a SQLite connection must never cross a fork. A file
    lock makes one worker's matcher the active one (shelter_match.matcher). So `demo`
    stays one command.
    """

    def post_worker_init(_worker: object) -> None:
        from shelter_match.db import create_database_engine
        from shelter_match.matcher import start_in_thread

        start_in_thread(create_database_engine(database_url))

    return post_worker_init


server_options = [
    click.option("--host", default="127.0.0.1", show_default=True),
    click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True),
    click.option("--workers", type=click.IntRange(1, 64), default=default_workers,
                 show_default="min(4, 2 × cores + 1)"),
]


def with_server_options(command):
    for option in reversed(server_options):
        command = option(command)
    return command


@click.command()
@with_server_options
@pass_context
def serve(context: CommandContext, host: str, port: int, workers: int) -> None:
    """Serve the API with gunicorn."""
    context.require_schema()
    if runs_as_owner(context.engine):
        click.echo(f"{PROGRAM}: warning: serving as a database role that owns the tables or is "
                   "a superuser, which could rewrite the audit log; run the service as its own "
                   "role (README, Running on PostgreSQL)", err=True)
    run_server(host, port, workers, database_url=context.settings.database_url)


@click.command()
@with_server_options
@click.option("--scale", type=click.IntRange(1, 100), default=1, show_default=True)
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, workers: int, scale: int) -> None:
    """Upgrade the database, load demo data and serve: the first run on a fresh machine."""
    context: CommandContext = ctx.obj
    ensure_port_free(host, port)
    root = ctx.find_root().command
    ctx.invoke(root.get_command(ctx, "db").get_command(ctx, "upgrade"))
    click.echo("Demo users (passwords stay the same at every run on this machine; tokens are "
               "new at every run):\n")
    ctx.invoke(root.get_command(ctx, "seed").get_command(ctx, "demo"), scale=scale, seed_value=0,
               web_passwords=True, table=True)
    base = f"http://{host}:{port}"
    click.echo(f"\ndatabase:  {context.settings.database_url.render_as_string(hide_password=True)}")
    click.echo(f"web pages: {base}/aanmelden")
    click.echo(f"API docs:  {base}/api/v1/docs   (a night's workflow with curl: docs/api.md)")
    click.echo(f"try:       curl -H 'Authorization: Bearer <crisis_worker token>' "
               f"{base}/api/v1/regions")
    click.echo(f"serving on {base}")
    run_server(host, port, workers, database_url=context.settings.database_url)
