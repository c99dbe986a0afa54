"""The Chinese catalogue covers every message of the templates and web code, so no page shows English by accident."""

from __future__ import annotations

from pathlib import Path

import pytest
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
    """English shows every message id as is, although the same ids have a Chinese translation (so the
    English result is not the identity of a missing catalogue standing in for both)."""
    ids = _message_ids()
    en, zh = translations("en"), translations("zh")
    assert ids and all(en.gettext(m) == m for m in ids)
    assert zh.gettext("Clusters") != "Clusters"
    assert sum(zh.gettext(m) != m for m in ids) == len(ids)


def test_english_page_after_switch_and_chinese_by_default(tmp_path):
    """The login page's header link is Chinese by default and English with ?lang=en (the catalogue is applied)."""
    from fastapi.testclient import TestClient
    from web_fakes import fake_evaluate

    from smecluster.web.app import WebSettings, create_app

    settings = WebSettings(secure_cookies=False, evidence_dir=tmp_path / "ev")
    app = create_app(f"sqlite:///{tmp_path / 'i18n.db'}", evaluate=fake_evaluate, settings=settings)
    c = TestClient(app)
    link_zh = f'<a href="/">{translations("zh").gettext("Clusters")}</a>'
    default, english = c.get("/login").text, c.get("/login?lang=en").text
    assert link_zh in default and '<a href="/">Clusters</a>' not in default
    assert '<a href="/">Clusters</a>' in english and link_zh not in english


def test_feature_catalogues_merge_and_conflicts_are_refused(tmp_path, monkeypatch):
    """Each feature may keep its own .po beside messages.po; one id translated two ways is an error."""
    from smecluster.web import i18n

    folder = tmp_path / "zh" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    (folder / "messages.po").write_text(header + 'msgid "Chain"\nmsgstr "产业链"\n', encoding="utf-8")
    (folder / "chains.po").write_text(header + 'msgid "Link"\nmsgstr "环节"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        merged = i18n.translations("zh")
        assert merged.gettext("Chain") == "产业链"
        assert merged.gettext("Link") == "环节"
        (folder / "chains.po").write_text(header + 'msgid "Chain"\nmsgstr "链条"\n', encoding="utf-8")
        i18n.translations.cache_clear()
        with pytest.raises(ValueError, match="chains.po"):
            i18n.translations("zh")
    finally:
        i18n.translations.cache_clear()
