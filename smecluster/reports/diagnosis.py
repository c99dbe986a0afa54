"""The diagnosis report rendered as HTML (Jinja2) or PDF (WeasyPrint)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).with_name("templates")
OUTCOME_WORDS = {"qualifies": "符合", "qualifies_pending_review": "规则条件均满足，待评审判断",
                 "does_not_qualify": "不符合", "unknown": "待补充数据"}
STATUS_WORDS = {"pass": "满足", "fail": "不满足", "warn": "需说明", "unknown": "待补充",
                "not_assessed": "需评审"}


def render_html(diagnosis: dict) -> str:
    """The diagnosis (from services.diagnosis.diagnose) as a standalone HTML page."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    labels = diagnosis.get("labels", {})

    def label(kind: str | None) -> str:
        return f"{labels[kind]['zh']}（{labels[kind]['en']}）" if kind in labels else "无 / none"

    return env.get_template("diagnosis.html").render(
        d=diagnosis, label=label, outcome_words=OUTCOME_WORDS, status_words=STATUS_WORDS
    )


def render_pdf(diagnosis: dict, path: Path | str) -> Path:
    """The diagnosis as a PDF file (WeasyPrint renders the HTML page)."""
    from weasyprint import HTML  # imported here: it loads system libraries (pango) on import

    path = Path(path)
    HTML(string=render_html(diagnosis)).write_pdf(str(path))
    return path
