"""Translations: gettext catalogues (Babel .po files) read at start; Chinese is the default locale.

Message ids are English; `locale/zh/LC_MESSAGES/*.po` hold the Chinese: `messages.po` first, then one
file per feature (`chains.po`, ...) so that features written in parallel never edit the same lines.
The files are merged and compiled in memory when the app starts, so no binary .mo file can drift
from its source; a message id translated differently in two files is an error.
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
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    files = sorted(folder.glob("*.po"), key=lambda p: (p.name != "messages.po", p.name))
    if not files:
        return gettext.NullTranslations()
    catalog = None
    for po in files:
        with po.open("rb") as fh:
            part = read_po(fh, locale=locale)
        if catalog is None:
            catalog = part
            continue
        for message in part:
            if not message.id:
                continue  # the header
            known = catalog.get(message.id, message.context)
            if known is not None and known.string != message.string:
                raise ValueError(f"{po.name}: {message.id!r} is translated differently in another catalogue")
            catalog[message.id] = message
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
