"""Signing people in and out: password sign-in, the session cookie, CSRF protection.

Who is signed in is kept server-side (shelter_match.services.web_sessions): Flask's signed
cookie carries only a random session key, the CSRF token, the chosen language and flashed
messages. Signing out, disabling her, revoking her credentials or a new password delete the
session in the database, so a replayed cookie signs no one in. A session ends after an
absolute lifetime and earlier when idle. Role and scope are read from the database on every
request, never from the session, so a change applies at once.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _

from shelter_match.services import throttle, users, web_sessions
from shelter_match.services.auth import Principal
from web.pages import db_session, is_page_path, now, render, safe_next, write_after_transaction

blp = Blueprint("auth", __name__)

# A night shift with a quiet spell must not be signed out; a forgotten phone must be, and no
# session outlives a shift. Both are configurable (SHELTER_MATCH_SESSION_HOURS,
# SHELTER_MATCH_SESSION_IDLE_MINUTES); these are the defaults.
SESSION_LIFETIME = timedelta(hours=12)
IDLE_TIMEOUT = timedelta(hours=4)
SESSION_KEY = "sid"
SESSION_COOKIE = "shelter_match_session"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
KEPT_ON_SIGN_OUT = ("lang",)
# A form carried through signing in again: its fields as `carry:NAME`, and the mark the
# view sees when they come back (it shows them, it does not act on them).
CARRY = "carry:"
RESUMED = "_resumed"
LOOPBACK_HOSTS = {"localhost"}
ROLE_HOMES = {
    "crisis_worker": "web.crisis.home",
    "coordinator": "web.coordinator.home",
    "region_reviewer": "web.reviewer.home",
    "duty_officer": "web.duty.home",
    "admin": "web.admin.home",
}


class PageSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, never read or written for the API.

    A session cookie must never authenticate an API call: the API reads bearer tokens only,
    and on its paths this interface does not even open the cookie.
    """

    def open_session(self, app: Flask, request) -> Any:
        if not is_page_path(request.path):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        if not is_page_path(request.path):
            return
        super().save_session(app, session, response)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Return whether the cookie gets the Secure flag (see `secure_cookies`)."""
        setting = app.config.get("WEB_SECURE_COOKIES", "auto")
        if setting != "auto":
            return bool(setting)
        return request.is_secure or not _is_loopback(request.host)


def _is_loopback(host: str) -> bool:
    # Only plain http to this very machine (the demo, the tests) goes without Secure;
    # behind a reverse proxy the Host is the public name, so the flag is set.
    name = urlsplit(f"//{host}").hostname or ""
    if name in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def init_app(app: Flask) -> None:
    """Configure the session cookie and its secret key."""
    app.session_interface = PageSessionInterface()
    app.config.setdefault("WEB_SECURE_COOKIES", "auto")
    app.config.setdefault("WEB_SESSION_LIFETIME", SESSION_LIFETIME)
    app.config.setdefault("WEB_SESSION_IDLE_TIMEOUT", IDLE_TIMEOUT)
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The browser may drop the cookie then; the server ends the session regardless.
        PERMANENT_SESSION_LIFETIME=app.config["WEB_SESSION_LIFETIME"],
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = persistent_secret_key(Path(app.instance_path))


def persistent_secret_key(folder: Path) -> str:
    """Return the instance's secret key, creating it (mode 600) on first use.

    Kept in a file so that a restart does not sign everyone out. Several workers may start
    at once: the key is written to a private temporary file and linked into place, which
    fails for all but the first, who then read the winner's key.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRET_KEY_FILE
    if not path.exists():
        temporary = folder / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()


# --- Every page request ------------------------------------------------------------------

def lifetimes() -> web_sessions.Lifetimes:
    """Return the configured absolute and idle lifetimes of a web session."""
    config = current_app.config
    return web_sessions.Lifetimes(absolute=config["WEB_SESSION_LIFETIME"],
                                  idle=config["WEB_SESSION_IDLE_TIMEOUT"])


def load_principal() -> Any:
    """Find who is signed in; end a session that idled, ran out or no longer holds."""
    g.principal = None
    if request.endpoint == "web.static":
        return None
    key = session.get(SESSION_KEY)
    if not key:
        return None
    resumed = web_sessions.resume(db_session(), str(key), now(), lifetimes())
    if resumed.principal is None:
        _end_session()
        if resumed.ended == "idle":
            flash(_("You were signed out after a long time without activity. Please sign in "
                    "again."), "info")
        elif resumed.ended == "expired":
            flash(_("Your session has come to its end. Please sign in again."), "info")
        return None
    g.principal = resumed.principal
    return None


def current_principal() -> Principal | None:
    """Return who is signed in, or None."""
    return g.get("principal")


def csrf_token() -> str:
    """Return this session's CSRF token, creating it on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse a POST whose form lacks this session's CSRF token (synchronizer token)."""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        abort(400, description="csrf")
    expected = session.get("csrf")
    if not expected and "user_id" not in session and _is_resumable(request.path):
        # Her session cookie ran out while she filled in the form: nobody is signed in, so
        # nothing can be done in her name; the page asks her to sign in and keeps the form.
        return
    sent = request.form.get("csrf_token", "")
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        abort(400, description="csrf")


def requires_role(*roles: str, resumable: bool = False) -> Callable:
    """Let only signed-in people with one of `roles` see the decorated page.

    `resumable`: a form posted after her session ended is not lost. The sign-in page carries
    the posted values in hidden fields (in the page only: nothing is stored on the server),
    and after signing in she gets the form back filled in, marked RESUMED, to check and send
    herself: the view never acts on a resumed post.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any):
            principal = current_principal()
            if principal is None and resumable and request.method == "POST":
                return render("sign_in.html", status=401, next_url=safe_next(request.path),
                              name="", carried=_carried(request.form), expired=True)
            if principal is None:
                return redirect(url_for("web.auth.sign_in", next=request.full_path.rstrip("?")))
            if principal.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        guarded.allowed_roles = tuple(roles)
        guarded.resumable = resumable  # type: ignore[attr-defined]
        return guarded

    return decorate


def _carried(form: Any) -> list[tuple[str, str]]:
    """Return a posted form's fields to carry through signing in (never the CSRF token,
    the password or a resume marker), capped so the page stays small."""
    skip = {"csrf_token", "password", RESUMED}
    pairs = [(key, value) for key, values in form.lists() if not key.startswith(CARRY)
             for value in values if key not in skip]
    return pairs[:200]


def _end_session() -> None:
    kept = {key: session[key] for key in KEPT_ON_SIGN_OUT if key in session}
    session.clear()
    session.update(kept)
    g.principal = None


def home_url(principal: Principal) -> str:
    return url_for(ROLE_HOMES[principal.role])


# --- Pages -------------------------------------------------------------------------------

@blp.get("/")
def index():
    """Send a signed-in person to her role's start page, anyone else to sign in."""
    principal = current_principal()
    if principal is None:
        return redirect(url_for("web.auth.sign_in"))
    return redirect(home_url(principal))


@blp.route("/aanmelden", methods=["GET", "POST"])
def sign_in():
    """Sign in with a user name and password."""
    next_url = safe_next(request.values.get("next"))
    # GET and HEAD (which Flask adds to every GET route) only show the form: only a POSTed
    # name and password is an attempt, and only a failed one counts against her.
    if request.method != "POST":
        if current_principal() is not None:
            return redirect(next_url or home_url(current_principal()))
        return render("sign_in.html", next_url=next_url, name="")
    name = request.form.get("name", "").strip()[:64]
    password = request.form.get("password", "")
    # Counted per name and address: someone else's failures, from elsewhere or for another
    # name, never refuse her right password.
    client = throttle.sign_in_key(request.remote_addr or "unknown", name)
    blocked = throttle.blocked_until(db_session(), client, now())
    if blocked is not None:
        minutes = max(1, round((blocked - now()).total_seconds() / 60))
        error = _("Too many failed attempts from this device. Try again in %(minutes)d "
                  "minutes.", minutes=minutes)
        response = render("sign_in.html", status=429, next_url=next_url, name=name,
                          error=error)
        response.headers["Retry-After"] = str(minutes * 60)
        return response
    result = users.sign_in(db_session(), name, password, now())
    if result.principal is None:
        _note_failure(client, result.user_id, result.reason or "refused")
        return render("sign_in.html", status=401, next_url=next_url, name=name,
                      error=_("The user name or password is not right."),
                      carried=[(key[len(CARRY):], value) for key, values
                               in request.form.lists() if key.startswith(CARRY)
                               for value in values][:200])
    # A new session on every sign-in: nothing chosen before it (session fixation) survives,
    # and a session this browser had before ends on the server too.
    web_sessions.end(db_session(), str(session.get(SESSION_KEY) or ""))
    _end_session()
    key = web_sessions.start(db_session(), result.user_id, now(), lifetimes())
    session.permanent = True
    session.update({SESSION_KEY: key, "csrf": secrets.token_urlsafe(32)})
    g.principal = result.principal
    carried = [(key[len(CARRY):], value) for key, values in request.form.lists()
               if key.startswith(CARRY) for value in values]
    if carried and next_url and _is_resumable(next_url):
        # Her form comes back to her as a page that posts it, marked as resumed, to the view
        # that shows it again: one tap, and she checks it before sending.
        return render("resume.html", next_url=next_url, carried=carried[:200])
    return redirect(next_url or home_url(result.principal), code=303)


def _is_resumable(path: str) -> bool:
    """Return whether `path` is a page whose form may come back after signing in."""
    try:
        endpoint, _args = current_app.url_map.bind("").match(path, method="POST")
    except Exception:  # noqa: BLE001  any path that is not such a page: no resume
        return False
    return bool(getattr(current_app.view_functions.get(endpoint), "resumable", False))


@blp.post("/afmelden")
def sign_out():
    """Sign out: end the session on the server, so the old cookie no longer works."""
    principal = current_principal()
    if principal is not None:
        users.record_sign_out(db_session(), principal, now())
    web_sessions.end(db_session(), str(session.get(SESSION_KEY) or ""))
    _end_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("web.auth.sign_in"), code=303)


def _note_failure(client: str, user_id: str | None, reason: str) -> None:
    """Count and audit a refused sign-in once the request's transaction has rolled back."""
    moment = now()

    def write(own: Any) -> None:
        throttle.record_failure(own, client, moment)
        users.record_sign_in_failure(own, user_id=user_id, reason=reason, now=moment)

    write_after_transaction(write)
