"""Dutch first, English as a choice: the translation catalogues and the language switch.

Messages are written in English in the code and templates; `translations/nl` holds the
Dutch texts (the default), `translations/en` the English catalogue. The `.po` files are the
source: they are compiled in memory when first needed, so a fresh clone needs no build
step and no compiled file can drift from its source.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_babel import Babel, Domain, get_locale

from web.pages import safe_next

blp = Blueprint("i18n", __name__)

CATALOGUES = Path(__file__).with_name("translations")
LANGUAGES = {"nl": "Nederlands", "en": "English"}
DEFAULT_LANGUAGE = "nl"
TIME_ZONE = "Europe/Amsterdam"


def catalogue_path(language: str) -> Path:
    return CATALOGUES / language / "LC_MESSAGES" / "messages.po"


@functools.cache
def compiled_translations(language: str) -> Translations:
    """Return the translations of one language, compiled from its .po file."""
    path = catalogue_path(language)
    if not path.exists():
        return Translations()
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


class CatalogueDomain(Domain):
    """Flask-Babel's domain, reading our catalogues from their .po source."""

    def get_translations(self):
        return compiled_translations(str(get_locale() or DEFAULT_LANGUAGE))


class CatalogueBabel(Babel):
    @functools.cached_property
    def domain_instance(self):
        return CatalogueDomain(domain=self.domain)


def select_language() -> str:
    """Return the chosen language, else the browser's preference, else Dutch."""
    chosen = session.get("lang") if request else None
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LANGUAGE)


def init_app(app: Flask) -> None:
    """Set up Flask-Babel with our catalogues and the language selector."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIME_ZONE)
    CatalogueBabel(app, locale_selector=select_language)


@blp.post("/taal")
def choose_language():
    """Remember the chosen language for this browser and go back where she was."""
    language = request.form.get("lang", "")
    if language in LANGUAGES:
        session["lang"] = language
    return redirect(safe_next(request.form.get("next")) or url_for("web.auth.index"), code=303)
