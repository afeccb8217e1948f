"""The pages for people: a crisis worker's phone at night, a coordinator's bed board,
a region's dashboard and the admin pages, served by the same Flask app as the API.

Pages call the same services as the API, with the same roles and scopes; they never run
SQL of their own (tests/test_layering.py keeps `sqlalchemy` out of this package). People
sign in with a password and keep a signed session cookie; the API never reads it. The
app (app/) lends the request's database and routes errors on pages to `pages.error_page`.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from web import auth, i18n, templating


def init_app(app: Flask) -> None:
    """Register the pages, their sessions, CSRF protection and translations."""
    from web.views import (
        admin,
        admin_channels,
        admin_regions,
        admin_signals,
        coordinator,
        crisis_worker,
        duty,
        reviewer,
    )

    auth.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)
    site = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                     static_url_path="/assets")
    # CSRF first: a form posted into a session that has just idled out is still checked
    # against the token it was rendered with.
    site.before_request(auth.check_csrf)
    site.before_request(auth.load_principal)
    site.register_blueprint(auth.blp)
    site.register_blueprint(i18n.blp)
    for module in (crisis_worker, coordinator, reviewer, admin, admin_regions, admin_signals,
                   admin_channels, duty):
        site.register_blueprint(module.blp)
    app.register_blueprint(site)
