"""gunicorn's threaded worker, with a thread of its own for the liveness probe.

With every request thread waiting on the database (a long lock, a slow server), a request
for /healthz used to wait in the same queue, and the load balancer took a busy worker for
a dead one. This worker looks at the first bytes of a request before it hands it to a
thread: `GET /healthz` (which never touches the database) goes to a lane of its own, and
`GET /readyz` (which asks the database, but gives up after two seconds) to another, so that
readiness answers 503 within its own deadline even when every request thread waits.

It builds on gunicorn's gthread worker (pinned in pyproject.toml); a test over a real server
holds every request thread on a locked row and asks /healthz, so an upgrade that changes
the worker's inner workings cannot pass unnoticed.
"""

from __future__ import annotations

import selectors
import socket
import time
from concurrent import futures
from functools import partial

from gunicorn.workers.gthread import ThreadWorker

LIVENESS_REQUESTS = (b"GET /healthz ", b"GET /healthz?", b"HEAD /healthz ")
READINESS_REQUESTS = (b"GET /readyz ", b"GET /readyz?", b"HEAD /readyz ")


class ProbeLaneWorker(ThreadWorker):
    """gthread, with /healthz served by a thread that the other requests cannot occupy."""

    def init_process(self) -> None:
        self.probe_pool = futures.ThreadPoolExecutor(max_workers=1,
                                                     thread_name_prefix="liveness")
        self.readiness_pool = futures.ThreadPoolExecutor(max_workers=1,
                                                         thread_name_prefix="readiness")
        super().init_process()

    def enqueue_req(self, conn) -> None:
        """Hand the connection to a thread: the liveness lane or the shared pool."""
        first = self._first_bytes(conn)
        if first is None:
            # Nothing sent yet: wait on the poller (as gthread does for a slow client), so
            # the request line is there to look at when it becomes readable.
            self._wait_for_request(conn)
            return
        if first.startswith(LIVENESS_REQUESTS):
            lane = self.probe_pool
        elif first.startswith(READINESS_REQUESTS):
            lane = self.readiness_pool
        else:
            lane = self.tpool
        future = lane.submit(self.handle, conn)
        future.add_done_callback(
            lambda done: self.method_queue.defer(self.finish_request, conn, done))

    def _first_bytes(self, conn) -> bytes | None:
        """Return the request's first bytes without consuming them; None when none came yet."""
        if self.cfg.is_ssl or (conn.parser is not None and conn.parser.unreader.buf.getvalue()):
            return b""  # encrypted, or already read into gunicorn's buffer: the shared pool
        try:
            return conn.sock.recv(16, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return b"" if conn.data_ready or conn.initialized else None
        except OSError:
            return b""  # the shared pool's thread meets the error and closes the connection

    def _wait_for_request(self, conn) -> None:
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ,
                             partial(self.on_pending_socket_readable, conn))

    def handle_quit(self, sig, frame) -> None:
        self.probe_pool.shutdown(wait=False)
        self.readiness_pool.shutdown(wait=False)
        super().handle_quit(sig, frame)
