"""The Chinese catalogue covers every message of the templates and web code, so no page shows English by accident."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from smecluster.web.i18n import translations

PACKAGE = Path(__file__).resolve().parents[1] / "smecluster"
# templates and web code, plus the user-facing error templates (N_) of the workflow and accounts
SOURCES = [PACKAGE / "web", PACKAGE / "workflow", PACKAGE / "accounts"]


def _message_ids() -> set[str]:
    method_map = [("**.html", "jinja2"), ("**.py", "python")]
    options = {"**.html": {"extensions": "jinja2.ext.i18n"}}
    out = set()
    for source in SOURCES:
        for _file, _line, message, _comments, _ctx in extract_from_dir(str(source), method_map, options_map=options):
            out.add(message[0] if isinstance(message, tuple) else message)
    return out


def test_every_message_has_a_chinese_translation():
    """Each message id extracted from templates and code has a non-identical zh translation."""
    zh = translations("zh")
    missing = sorted(m for m in _message_ids() if zh.gettext(m) == m)
    assert not missing, missing


def test_english_is_the_message_id():
    """English needs no catalogue: the message ids are English."""
    assert translations("en").gettext("Clusters") == "Clusters"
