"""Hardening that applies to every answer: security headers, and who the client is."""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from app.routing import is_page_request

API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Answers hold availability and, for the entitled, addresses: never cache them.
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
}


# The pages for people (web/): their own styles, scripts and images only, no inline script,
# forms posted only back here, never framed. Every page may show client data: no cache.
PAGE_HEADERS = {
    **API_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


def init_app(app: Flask) -> None:
    """Trust the configured proxies for the client's address; harden every answer."""
    proxies = int(app.config.get("PROXY_COUNT", 0))
    if proxies:
        # Trust X-Forwarded-For only from the configured number of reverse proxies: the
        # throttle counts failed authentications by this address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    @app.after_request
    def harden(response: Response) -> Response:
        is_page = response.mimetype == "text/html" and is_page_request()
        for name, value in (PAGE_HEADERS if is_page else API_HEADERS).items():
            response.headers.setdefault(name, value)
        response.headers.pop("Server", None)
        return response
