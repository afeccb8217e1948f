"""Refuse JSON bodies nested deeper than any honest client sends, before anything parses them.

Python's json module recurses once per level: a body of 50,000 `[` (64 KB allows that) raised
RecursionError in whatever parsed it first, a 500. Counted here without recursion, on the raw
bytes, it is a 400 like any other malformed body.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import BadRequest

# Our deepest body (a placement request's danger points) nests four levels.
MAX_JSON_DEPTH = 32
_OPENERS = frozenset(b"[{")
_CLOSERS = frozenset(b"]}")
QUOTE, BACKSLASH = ord('"'), ord("\\")


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Return whether the arrays and objects of `raw` nest deeper than `limit`."""
    if raw.count(b"[") + raw.count(b"{") <= limit:  # the common case, without a loop
        return False
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == BACKSLASH:
                escaped = True
            elif byte == QUOTE:
                in_string = False
        elif byte == QUOTE:
            in_string = True
        elif byte in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        elif byte in _CLOSERS:
            depth -= 1
    return False


def init_app(app: Flask) -> None:
    """Check the nesting of every JSON body before the API's or anyone's parser sees it."""

    @app.before_request
    def refuse_deeply_nested_json() -> None:
        if not request.is_json or not (request.content_length or
                                       request.headers.get("Transfer-Encoding")):
            return
        if json_depth_exceeds(request.get_data(cache=True)):
            raise BadRequest(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")
