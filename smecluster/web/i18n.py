"""Translations: gettext catalogues (Babel .po files) read at start; Chinese is the default locale.

Message ids are English; `locale/zh/LC_MESSAGES/messages.po` holds the Chinese. The .po file is
compiled in memory when the app starts, so no binary .mo file can drift from its source.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).with_name("locale")
LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"
LOCALE_COOKIE = "lang"


@lru_cache(maxsize=4)
def translations(locale: str) -> gettext.NullTranslations:
    """The gettext translations of a locale (identity for English, the message ids' language)."""
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def pick_locale(query: str | None, cookie: str | None, accept: str | None = None) -> str:
    """The locale of a request: ?lang= first, then the cookie, else Chinese."""
    for candidate in (query, cookie):
        if candidate in LOCALES:
            return candidate
    return DEFAULT_LOCALE


def localize(locale: str, error: Exception) -> str:
    """An error's message in the locale: a UserError by its template and fields, anything else as is."""
    from smecluster.messages import UserError

    if not isinstance(error, UserError):
        return str(error)
    try:
        return translations(locale).gettext(error.template) % error.params
    except (KeyError, ValueError, TypeError):  # a translation with wrong fields: show the English
        return str(error)
