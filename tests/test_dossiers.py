"""Dossiers, the watch report and the recommendation summary as Word, Excel and PDF files: each converted
headless by LibreOffice (it must open them without repair) and read back with pdfinfo and pdftotext."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from test_watch import TODAY, _falling_registry
from typer.testing import CliRunner

from smecluster.cli import common
from smecluster.cli.main import app
from smecluster.registry.models import Enterprise
from smecluster.reports.dossier_docx import dossier_docx, watch_docx
from smecluster.reports.dossier_pdf import dossier_pdf, watch_pdf
from smecluster.reports.dossier_xlsx import dossier_xlsx, watch_xlsx
from smecluster.reports.recommendation_xlsx import recommendation_xlsx
from smecluster.services.dossiers import UnknownCluster, gather
from smecluster.services.priority import recommend
from smecluster.services.watch import compute_watch

pytestmark = pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdftotext"),
                                reason="LibreOffice and poppler-utils are needed (scripts/system-deps.sh)")
HOSTILE = "=HYPERLINK(\"http://x\",\"点我\")"


def convert(files: list[Path], out: Path) -> dict[str, Path]:
    """Convert files to PDF with LibreOffice headless, in a profile of its own (parallel runs stay apart)."""
    profile = out / "lo-profile"
    env = {**os.environ, "HOME": str(out)}
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--convert-to", "pdf",
         "--outdir", str(out), *map(str, files)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr
    pdfs = {f.name: out / (f.stem + ".pdf") for f in files}
    for name, pdf in pdfs.items():
        assert pdf.exists(), f"LibreOffice did not convert {name}: {result.stdout} {result.stderr}"
    return pdfs


def pages(pdf: Path) -> int:
    """Page count from pdfinfo."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    """The PDF's text (pdftotext), pages `first`..`last` when given; white space removed (tables wrap)."""
    args = ["pdftotext", "-enc", "UTF-8"] + (["-f", str(first), "-l", str(last)] if first else []) + [str(pdf), "-"]
    return "".join(subprocess.run(args, capture_output=True, text=True, check=True).stdout.split())


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The documents of one recognised cluster at risk (a member named like a formula), written once."""
    tmp = tmp_path_factory.mktemp("dossiers")
    engine, builder = _falling_registry(f"sqlite:///{tmp / 'registry.db'}")
    with engine.begin() as conn:
        conn.execute(update(Enterprise).where(Enterprise.uscc == builder.members[0]).values(name=HOSTILE))
    dossier = gather(engine, [1], today=TODAY)[0]
    watch = compute_watch(engine, year=2026, today=TODAY)
    out = {
        "dossier.docx": dossier_docx(dossier), "dossier-sheets.xlsx": dossier_xlsx(dossier),
        "dossier.pdf": dossier_pdf(dossier), "watch.docx": watch_docx(watch), "watch-sheets.xlsx": watch_xlsx(watch),
        "watch.pdf": watch_pdf(watch), "recommendation.xlsx": recommendation_xlsx(recommend(engine, year=2026)),
    }
    for name, data in out.items():
        (tmp / name).write_bytes(data)
    office = [tmp / n for n in out if not n.endswith(".pdf")]
    converted = convert(office, tmp / "converted")
    return {"dir": tmp, "engine": engine, "builder": builder, "dossier": dossier, "pdf": converted}


def test_dossier_docx_opens_in_libreoffice(files):
    """The Word dossier converts: title page alone on page 1, then criteria, history, chart, scores, members."""
    pdf = files["pdf"]["dossier.docx"]
    assert pages(pdf) >= 3
    cover = text(pdf, 1, 1)
    assert "测试集群" in cover and "中小企业特色产业集群档案" in cover and "认定条件逐项评价" not in cover
    body = text(pdf)
    for heading in ("认定条件逐项评价", "历年指标与趋势", "指标趋势图", "五个维度评分", "成员企业（20家）",
                    "创新平台（5个）", "年度报告"):
        assert heading in body, heading
    assert "集群内企业上云比例不低于30%" in body  # J7's clause
    assert files["builder"].members[5] in body  # a member's credit code


def test_dossier_docx_has_chart_and_chinese_font(files):
    """The chart is an embedded PNG and the styles name Noto Sans CJK SC for East Asian text."""
    with zipfile.ZipFile(files["dir"] / "dossier.docx") as z:
        assert any(n.startswith("word/media/") and n.endswith(".png") for n in z.namelist())
        assert 'w:eastAsia="Noto Sans CJK SC"' in z.read("word/styles.xml").decode()


def test_dossier_history_shows_the_fall(files):
    """The history table carries each year's value and the projection that fails."""
    body = text(files["dir"] / "dossier.pdf")
    assert "60%" in body and "45%" in body and "35%" in body  # shares as every page writes them (values.py)
    assert "60.0%" not in body
    assert "-12.50个百分点/年" in body  # the slope of 0.60, 0.45, 0.35
    assert "有风险" in body


def test_dossier_pdf_matches_the_word_file(files):
    """The WeasyPrint PDF says the same: the cover, the sections and the member list."""
    pdf = files["dir"] / "dossier.pdf"
    assert pages(pdf) >= 3
    body = text(pdf)
    for heading in ("认定条件逐项评价", "历年指标与趋势", "五个维度评分", "成员企业（20家）"):
        assert heading in body
    assert files["builder"].members[5] in body


def test_dossier_xlsx_sheets_and_formula_safety(files):
    """One sheet per table; the member named like a formula is text, no cell of the workbook is a formula."""
    wb = load_workbook(files["dir"] / "dossier-sheets.xlsx")
    assert wb.sheetnames[:3] == ["概况", "认定条件逐项评价", "历年指标与趋势"]
    assert any(name.startswith("成员企业") for name in wb.sheetnames)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert "'" + HOSTILE in {c.value for c in cells}
    body = text(files["pdf"]["dossier-sheets.xlsx"])
    assert "测试集群" in body and files["builder"].members[5] in body


def test_watch_report_files(files):
    """The yearly watch report in the three formats names the cluster at risk and its criterion."""
    for pdf in (files["pdf"]["watch.docx"], files["pdf"]["watch-sheets.xlsx"], files["dir"] / "watch.pdf"):
        body = text(pdf)
        assert "有复核风险的集群" in body and "测试集群" in body and "J7" in body, pdf
    assert "2026年度特色产业集群复核监测报告" in text(files["pdf"]["watch.docx"], 1, 1)


def test_recommendation_summary(files):
    """The recommendation summary converts and carries its table and the candidates with the national verdict."""
    body = text(files["pdf"]["recommendation.xlsx"])
    assert "推荐汇总表" in body and "测试集群" in body and "国家条件" in body


def test_gather_refuses_an_unknown_cluster(files):
    """Asking for a cluster the registry lacks names it."""
    with pytest.raises(UnknownCluster, match="no cluster with id 42"):
        gather(files["engine"], [42], today=TODAY)


def test_report_cli(tmp_path, monkeypatch, database_url):
    """`report cluster ID` writes the file, `report cluster all` a folder, bad input is refused clearly."""
    _falling_registry(database_url)
    monkeypatch.setattr(common.console, "width", 400)
    monkeypatch.setattr(common.err_console, "width", 400)
    run = CliRunner().invoke
    out = tmp_path / "c.xlsx"
    result = run(app, ["--db", database_url, "report", "cluster", "1", "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "历年指标与趋势" in load_workbook(out).sheetnames
    folder = tmp_path / "all"
    result = run(app, ["--db", database_url, "report", "cluster", "all", "--format", "docx", "-o", str(folder)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in folder.iterdir()] == ["1-test.docx"]
    bad = run(app, ["--db", database_url, "report", "cluster", "7", "-o", str(tmp_path / "x.docx")])
    assert bad.exit_code != 0 and "no cluster with id 7" in bad.output
    bad = run(app, ["--db", database_url, "report", "recommendation", "--format", "pdf", "-o", str(tmp_path / "r")])
    assert bad.exit_code != 0 and "--format xlsx" in bad.output
