"""Jinja2 rendering with one environment per locale (thread-safe: no per-request global swap)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from smecluster.web import formatting
from smecluster.web.i18n import LOCALES, translations
from smecluster.workflow.definition import load_workflow

TEMPLATE_DIR = Path(__file__).with_name("templates")


@lru_cache(maxsize=len(LOCALES))
def environment(locale: str) -> Environment:
    """The Jinja2 environment of one locale, with gettext installed."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)
    env.filters.update(formatting.filters(locale))
    env.globals["locale"] = locale
    env.globals["other_locale"] = "en" if locale == "zh" else "zh"
    env.globals["stage_label"] = lambda stage: _stage_label(stage, locale)
    env.globals["designation_label"] = lambda kind: designation_labels(locale).get(kind, kind)
    env.globals["action_label"] = lambda action: _action_label(action, locale)
    return env


@lru_cache(maxsize=len(LOCALES))
def designation_labels(locale: str) -> dict[str, str]:
    """A designation kind's name for a person: the tiers' (专精特新"小巨人", ...) and the certificates'
    (高新技术企业, ...), never the code."""
    from smecluster.policy.tiers import tiers
    from smecluster.policy.validity import certificates

    zh = locale == "zh"
    out = {t.kind: t.label_zh if zh else t.label_en for t in tiers()}
    out.update({c.kind: c.label_zh if zh else c.label_en for c in certificates()})
    return out


def _action_label(action: str | None, locale: str) -> str:
    """A workflow action's name in `locale` (提交申报, 推荐, ...; the code when the workflow has none)."""
    found = load_workflow().action(action or "")
    return getattr(found, locale) if found else (action or "")


def stage_name(stage: str | None, locale: str) -> str:
    """A workflow stage's name in `locale` (草稿, 已认定, ...; the code when the workflow has no such stage)."""
    return _stage_label(stage, locale)


def _stage_label(stage: str | None, locale: str) -> str:
    stages = {s.id: s for s in load_workflow().stages}
    found = stages.get(stage or "")
    return getattr(found, locale) if found else (stage or "")


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a template in the request's locale, with the user and CSRF token in the context."""
    state = request.state
    ctx = {
        "request": request,
        "user": getattr(state, "user", None),
        "csrf_token": getattr(state, "csrf_token", ""),
        "path": request.url.path,
    }
    ctx.update(context or {})
    html = environment(getattr(state, "locale", "zh")).get_template(name).render(ctx)
    return HTMLResponse(html, status_code=status_code)
