"""A tier evaluation written out: JSON, Excel workbook or Parquet file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from smecluster.policy.tiers import tier_label
from smecluster.safe_text import safe_cell, safe_frame
from smecluster.services.tiers import (
    TierEvaluation,
    labelled,
    pack_reason,
    reasons,
    summary,
    tier_lists,
    unverified_notes,
)

if TYPE_CHECKING:  # openpyxl costs ~0.25 s of start-up; only the xlsx writer needs it
    from openpyxl import Workbook


def evaluation_dict(evaluation: TierEvaluation, firms: bool = True, lang: str = "zh") -> dict:
    """The evaluation as plain data: packs used, summary per tier, the three lists, every firm (with, per
    tier, the reason it does not qualify in words of `lang` beside the codes, and the group minimums)."""
    out = {
        "year": evaluation.year,
        "on": evaluation.on.isoformat(),
        "evaluation": evaluation.evaluation,
        "packs": {p.tier: {"id": p.pack.id, "title": p.pack.title, "version": p.pack.version,
                           "label_zh": tier_label(p.pack, "zh"), "label_en": tier_label(p.pack, "en"),
                           "reason_en": pack_reason(p.pack, "en"), "reason_zh": pack_reason(p.pack, "zh"),
                           "unverified": p.unverified, "review": p.review} for p in evaluation.tiers},
        "summary": summary(evaluation).to_dicts(),
        "lists": {k: v.to_dicts() for k, v in tier_lists(evaluation).items()},
    }
    if firms:
        out["firms"] = pl.concat([labelled(evaluation), reasons(evaluation, lang)], how="horizontal").to_dicts()
    return out


def write_json(evaluation: TierEvaluation, path: Path | None, lang: str = "zh") -> str:
    """JSON text of the evaluation (also written to `path` when given); reasons in words of `lang`."""
    text = json.dumps(evaluation_dict(evaluation, lang=lang), ensure_ascii=False, indent=1, default=str)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def write_parquet(evaluation: TierEvaluation, path: Path) -> Path:
    """Every firm's labelled evidence as one Parquet file (the words dictionary-encoded: a province's
    labels as plain text took 6.4 GB to write)."""
    labelled(evaluation, enum=True).write_parquet(path)
    return Path(path)


def _sheet(wb: Workbook, title: str, frame: pl.DataFrame) -> None:
    # names come from registry imports: no text may start a formula or hold a character XML refuses
    safe = safe_frame(frame)
    ws = wb.create_sheet(title)
    ws.append(safe.columns)
    for row in safe.iter_rows():
        ws.append([safe_cell(v) if isinstance(v, str) else v for v in row])


def write_xlsx(evaluation: TierEvaluation, path: Path) -> Path:
    """A workbook: summary, one sheet per list, every firm's evidence, and the UNVERIFIED notes."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    _sheet(wb, "summary", summary(evaluation))
    for name, frame in tier_lists(evaluation).items():
        _sheet(wb, name[:31], frame)
    _sheet(wb, "firms", labelled(evaluation))
    notes = unverified_notes(evaluation)
    _sheet(wb, "unverified", pl.DataFrame({"tier": list(notes), "criteria": [", ".join(v) for v in notes.values()]}))
    wb.save(path)
    return Path(path)
