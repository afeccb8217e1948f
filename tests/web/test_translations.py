"""Dutch first, English complete: the catalogues hold every text of the pages, correctly.

The .po files are the source and are compiled in memory (web/i18n.py), so a fresh clone
needs no compiled catalogue; these tests keep the sources whole.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from web.i18n import CATALOGUES, LANGUAGES, compiled_translations

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


def catalogue(language):
    path = CATALOGUES / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def extracted(tmp_path: Path):
    """Extract the texts of the code and templates now, as `make translations` does."""
    output = tmp_path / "messages.pot"
    subprocess.run([Path(sys.executable).with_name("pybabel"), "extract", "-F",
                    str(CATALOGUES.parent / "babel.cfg"), "-k", "_l", "--no-location",
                    "-o", str(output), str(CATALOGUES.parent)],
                   check=True, capture_output=True)
    with output.open("rb") as handle:
        return read_po(handle)


def messages(found):
    return {message.id for message in found if message.id}


def test_every_text_of_the_pages_is_in_both_catalogues(tmp_path):
    texts = messages(extracted(tmp_path))
    assert len(texts) > 200
    # Flask-Babel formats every message with its (maybe empty) dict of values, so a bare %s
    # comes out as "{}"; placeholders must be named.
    bare = [text for text in texts for part in (text if isinstance(text, tuple) else (text,))
            if re.search(r"%[sd]", part.replace("%%", ""))]
    assert not bare, bare
    for language in LANGUAGES:
        missing = texts - messages(catalogue(language))
        assert not missing, f"{language} lacks {sorted(missing, key=str)[:5]}: make translations"


@pytest.mark.parametrize("language", ["nl"])
def test_dutch_translates_every_text_with_the_same_placeholders(language):
    for message in catalogue(language):
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(targets), f"untranslated: {message.id}"
        expected = sorted(PLACEHOLDER.findall(sources[-1]))
        for target in targets:
            assert sorted(PLACEHOLDER.findall(target)) == expected, (message.id, target)


def test_english_is_the_source_and_never_a_stale_copy():
    # English texts are the msgids; a msgstr in en would silently override a corrected source.
    assert all(not any(message.string if isinstance(message.string, tuple)
                       else (message.string,)) for message in catalogue("en") if message.id)
    assert compiled_translations("en").gettext("Sign in") == "Sign in"
    assert compiled_translations("nl").gettext("Sign in") == "Inloggen"


def test_pages_are_dutch_first_and_english_on_request(client):
    dutch = client.get("/aanmelden", headers={"Accept-Language": "fr, de"})
    assert '<html lang="nl">' in dutch.get_data(as_text=True)
    assert "Gebruikersnaam" in dutch.get_data(as_text=True)
    english = client.get("/aanmelden", headers={"Accept-Language": "en-GB,en;q=0.9"})
    html = english.get_data(as_text=True)
    assert '<html lang="en">' in html and "User name" in html and "Gebruikersnaam" not in html
