"""PDF files (WeasyPrint, as the diagnosis report): the cluster dossier and the yearly watch report,
from the same sections as the Word and Excel files."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from smecluster.reports.dossier_charts import trend_png
from smecluster.reports.sections import Section, dossier_sections, summary_rows, watch_sections
from smecluster.services.dossiers import Dossier

TEMPLATES = Path(__file__).with_name("templates")


def _uri(png: bytes | None) -> list[str]:
    return [f"data:image/png;base64,{base64.b64encode(png).decode()}"] if png else []


def render_html(title: str, subtitle: str, facts: list[list[str]], sections: list[Section],
                charts: dict[str, list[tuple[str, str]]], landscape: bool = False) -> str:
    """A standalone HTML page: cover with the key facts, then each section (charts after the one named)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    return env.get_template("sections.html").render(title=title, subtitle=subtitle, facts=facts, sections=sections,
                                                    charts=charts, landscape=landscape)


def _pdf(html: str, path: Path | str | None) -> bytes:
    from weasyprint import HTML  # imported here: it loads system libraries (pango) on import

    data = HTML(string=html).write_pdf()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def dossier_pdf(d: Dossier, path: Path | str | None = None) -> bytes:
    """The cluster dossier as PDF bytes (also written to `path` when given)."""
    charts = {"历年指标与趋势": [("指标趋势图", u) for u in _uri(trend_png(d.watch))]}
    html = render_html(d.cluster["name"], "中小企业特色产业集群档案", summary_rows(d), dossier_sections(d), charts)
    return _pdf(html, path)


def watch_pdf(watch: Any, path: Path | str | None = None) -> bytes:
    """The yearly watch report as PDF bytes, with the trend chart of each cluster at risk."""
    sections = watch_sections(watch)
    charts = {"有风险的条件": [(f"{c['name']}：指标趋势", u) for c in watch.at_risk for u in _uri(trend_png(c))]}
    facts = [["年度", str(watch.year)], ["数据年度", str(watch.data_year or "—")],
             ["认定政策", f"{watch.policy['title']}（{watch.policy['id']}）"], ["已认定集群", str(len(watch.clusters))],
             ["有风险", str(len(watch.at_risk))], ["本年到期复核", str(len(watch.due))]]
    html = render_html(f"{watch.year}年度特色产业集群复核监测报告", "中小企业特色产业集群 · 复核监测", facts, sections,
                       charts, landscape=True)
    return _pdf(html, path)
