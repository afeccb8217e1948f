"""A PostgreSQL cluster of our own, in a temporary folder on a free port, to restart at will.

The fault tests and bench/outage.py restart the database under load. They must never touch
the PostgreSQL server others use (127.0.0.1:5432): this module runs `initdb` and `pg_ctl`
on a new data folder and port, as the `postgres` user when we are root (PostgreSQL refuses
to run as root), and removes everything at the end.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from testbed.live import free_port

TOOLS = ("initdb", "pg_ctl", "postgres")


def find_tools() -> Path | None:
    """Return the folder that holds initdb, pg_ctl and postgres, or None."""
    candidates = [os.path.dirname(shutil.which("pg_ctl") or "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and all(os.access(Path(folder) / tool, os.X_OK) for tool in TOOLS):
            return Path(folder)
    return None


class PrivatePostgres:
    """A running private cluster: its URL, and restart/freeze for fault tests."""

    def __init__(self, bin_dir: Path, root: Path, port: int) -> None:
        self.bin_dir, self.root, self.port = bin_dir, root, port
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.as_postgres = os.geteuid() == 0

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, timeout=timeout, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, cwd=self.root)

    def url(self, database: str = "postgres") -> str:
        return URL.create("postgresql+psycopg", username="postgres", host="127.0.0.1",
                          port=self.port, database=database).render_as_string()

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        # Small and quick: nothing here survives the test, and the machine is shared.
        (self.data / "postgresql.auto.conf").write_text(
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.root}'\nfsync = off\n"
            "shared_buffers = 16MB\nmax_connections = 60\n")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast", down_for: float = 0.0) -> None:
        """Stop (fast: end every session; immediate: as a crash) and start again."""
        self.stop(mode)
        time.sleep(down_for)
        self.start()

    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Stop every process of the cluster (SIGSTOP): it holds its sockets and answers nothing."""
        pids = [self.pid(), *self._children()]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)

    def _children(self) -> list[int]:
        found = subprocess.run(["pgrep", "-P", str(self.pid())], capture_output=True, text=True)
        return [int(pid) for pid in found.stdout.split()]

    def create_database(self, name: str) -> str:
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """Run a private cluster for the duration of the block; raise LookupError without tools."""
    bin_dir = find_tools()
    if bin_dir is None:
        raise LookupError("PostgreSQL's initdb and pg_ctl are not installed")
    root = Path(tempfile.mkdtemp(prefix="shelter-match-pg-"))
    cluster = PrivatePostgres(bin_dir, root, free_port())
    if cluster.as_postgres:
        shutil.chown(root, "postgres")
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with suppress(subprocess.SubprocessError, OSError):
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
