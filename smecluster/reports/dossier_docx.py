"""Word files (python-docx): the cluster dossier and the yearly watch report.

Text runs carry the East Asian font (w:eastAsia = Noto Sans CJK SC) so Word and LibreOffice show the
Chinese in it. Long tables (hundreds of members) are built as XML rows in one pass: python-docx's
cell-by-cell API costs a search per cell.
"""

from __future__ import annotations

import io
from copy import deepcopy
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from smecluster.reports.dossier_charts import trend_png
from smecluster.reports.sections import Section, dossier_sections, summary_rows, watch_sections
from smecluster.safe_text import CONTROL_RE, REPLACEMENT
from smecluster.services.dossiers import Dossier

FONT = "Noto Sans CJK SC"


def _text(value: Any) -> str:
    # XML cannot hold most control characters; registry text should have none, but a report never fails on one
    return CONTROL_RE.sub(REPLACEMENT, "" if value is None else str(value))


def _document(landscape: bool = False) -> Document:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(9.5)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    for name in ("Title", "Heading 1", "Heading 2"):
        style = doc.styles[name]
        style.font.name = FONT
        style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    return doc


def _table(doc: Document, s: Section) -> None:
    """The section's table: header row styled by python-docx, data rows cloned as XML."""
    if not s.header:
        return
    table = doc.add_table(rows=1, cols=len(s.header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, s.header, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(_text(text))
        run.bold = True
    _repeat_header(table.rows[0])
    if s.widths:  # on the grid and on each cell (LibreOffice reads the cells' widths)
        table.autofit = False
        total = sum(s.widths)
        usable = doc.sections[-1].page_width - doc.sections[-1].left_margin - doc.sections[-1].right_margin
        for col, cell, w in zip(table.columns, table.rows[0].cells, s.widths, strict=True):
            col.width = cell.width = int(usable * w / total)
    if s.rows:
        template = deepcopy(table.rows[0]._tr)
        for r in template.iter(qn("w:b")):
            r.getparent().remove(r)
        for tr_pr in template.iter(qn("w:tblHeader")):
            tr_pr.getparent().remove(tr_pr)
        body = table._tbl
        texts = [t for t in template.iter(qn("w:t"))]
        for row in s.rows:
            for t, value in zip(texts, row, strict=True):
                t.text = _text(value)
            body.append(deepcopy(template))


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = tr_pr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"})
    tr_pr.append(el)


def _section(doc: Document, s: Section) -> None:
    doc.add_heading(_text(s.title), level=1)
    if s.note:
        p = doc.add_paragraph()
        run = p.add_run(_text(s.note))
        if s.pending:
            run.bold = True
            run.font.color.rgb = RGBColor(0x9A, 0x67, 0x00)
        else:
            run.font.size = Pt(8.5)
            run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
    _table(doc, s)


def _title_page(doc: Document, title: str, subtitle: str, facts: list[list[str]]) -> None:
    for _ in range(4):
        doc.add_paragraph()
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(_text(title))
    run.bold, run.font.size = True, Pt(22)
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub.add_run(_text(subtitle)).font.size = Pt(14)
    doc.add_paragraph()
    _table(doc, Section("", ["项目", "内容"], facts, widths=[1.2, 4.0]))
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def dossier_docx(d: Dossier, path: Path | str | None = None) -> bytes:
    """The cluster dossier as a Word file (bytes; also written to `path` when given)."""
    doc = _document()
    _title_page(doc, d.cluster["name"], "中小企业特色产业集群档案", summary_rows(d))
    sections = dossier_sections(d)
    for s in sections:
        _section(doc, s)
        if s.title == "历年指标与趋势":
            png = trend_png(d.watch)
            if png:
                doc.add_heading("指标趋势图", level=2)
                doc.add_picture(io.BytesIO(png), width=Cm(17))
    return _save(doc, path)


def watch_docx(watch: Any, path: Path | str | None = None, charts: bool = True) -> bytes:
    """The yearly re-review watch report as a Word file, with the trend charts of the clusters at risk."""
    doc = _document(landscape=True)
    facts = [["年度", str(watch.year)], ["数据年度", str(watch.data_year or "—")],
             ["认定政策", f"{watch.policy['title']}（{watch.policy['id']}）"],
             ["有效期", f"{watch.validity_years}年"], ["风险幅度", f"门槛的{watch.margin * 100:.0f}%以内"],
             ["已认定集群", str(len(watch.clusters))], ["有风险", str(len(watch.at_risk))],
             ["本年到期复核", str(len(watch.due))]]
    _title_page(doc, f"{watch.year}年度特色产业集群复核监测报告", "中小企业特色产业集群 · 复核监测", facts)
    for s in watch_sections(watch):
        _section(doc, s)
    if charts:
        for c in watch.at_risk:
            png = trend_png(c)
            if png:
                doc.add_heading(_text(f"{c['name']}：指标趋势"), level=2)
                doc.add_picture(io.BytesIO(png), width=Cm(22))
    return _save(doc, path)


def _save(doc: Document, path: Path | str | None) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data
