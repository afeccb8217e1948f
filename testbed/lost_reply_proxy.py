"""A TCP proxy in front of PostgreSQL that can lose the answer to a COMMIT.

The one fault no timeout shows: the COMMIT reaches the server and is applied, then the
connection dies before its acknowledgement reaches the service. The proxy forwards every
byte both ways; once armed, it passes the next COMMIT on, waits for the server's answer
(the proof that it was applied), swallows it and cuts the client's connection.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

# psycopg commits with a simple query: 'Q', its length (4 + 7) and "COMMIT\0".
COMMIT_MESSAGE = b"Q\x00\x00\x00\x0bCOMMIT\x00"


class LostReplyProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.armed = threading.Event()
        self.lost = threading.Event()  # set once a COMMIT's answer has been swallowed

    def arm(self) -> None:
        """Lose the answer to the next COMMIT that passes."""
        self.lost.clear()
        self.armed.set()

    def serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(self.upstream)
            commit_sent = threading.Event()
            threading.Thread(target=self._to_server, args=(client, server, commit_sent),
                             daemon=True).start()
            threading.Thread(target=self._to_client, args=(server, client, commit_sent),
                             daemon=True).start()

    def _to_server(self, client: socket.socket, server: socket.socket,
                   commit_sent: threading.Event) -> None:
        while chunk := _receive(client):
            if self.armed.is_set() and COMMIT_MESSAGE in chunk:
                self.armed.clear()
                commit_sent.set()
            server.sendall(chunk)
        _close(server)

    def _to_client(self, server: socket.socket, client: socket.socket,
                   commit_sent: threading.Event) -> None:
        while chunk := _receive(server):
            if commit_sent.is_set():
                # The server answered the COMMIT: it was applied. The client never hears.
                self.lost.set()
                break
            client.sendall(chunk)
        _close(client)
        _close(server)

    def close(self) -> None:
        _close(self.listener)


def _receive(connection: socket.socket) -> bytes:
    try:
        return connection.recv(65536)
    except OSError:
        return b""


def _close(connection: socket.socket) -> None:
    with suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()


@contextmanager
def lost_reply_proxy(host: str, port: int) -> Iterator[LostReplyProxy]:
    proxy = LostReplyProxy((host, port))
    threading.Thread(target=proxy.serve, daemon=True).start()
    try:
        yield proxy
    finally:
        proxy.close()
