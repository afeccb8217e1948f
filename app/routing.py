"""Tell a request for a page from one for the API: headers and errors differ between them."""

from __future__ import annotations

from flask import request

from web.pages import is_page_path


def is_page_request() -> bool:
    """Return whether this request is for a page (of the web blueprint) rather than the API."""
    if request.url_rule is None:  # nothing matched: a mistyped page address, or the API's
        return is_page_path(request.path)
    return (request.blueprint or "").split(".")[0] == "web"
