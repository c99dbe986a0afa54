"""Import kinds are data with documentation that cannot drift."""

from __future__ import annotations

from pathlib import Path

import yaml

from smecluster.registry.import_docs import render
from smecluster.registry.import_kinds import KINDS_FILE, kinds, normalise_header, suggest

DOC = Path(__file__).resolve().parents[1] / "docs" / "import.md"


def test_every_column_has_a_description():
    """Each column in import_kinds.yaml carries a non-empty description."""
    raw = yaml.safe_load(KINDS_FILE.read_text(encoding="utf-8"))
    missing = [
        (k, c.get("header"))
        for k, spec in raw.items()
        for c in spec["columns"]
        if not str(c.get("description") or "").strip()
    ]
    assert missing == []


def test_docs_list_the_columns_of_import_kinds():
    """docs/import.md holds the column tables as generated from import_kinds.yaml."""
    assert render() in DOC.read_text(encoding="utf-8")


def test_headers_are_unique_within_a_kind():
    """No two columns of one kind share an accepted header (a header must name one column)."""
    for kind in kinds().values():
        names = [normalise_header(n) for c in kind.columns for n in {c.header, *c.aliases, c.field}]
        assert len(names) == len(set(names)), kind.name


def test_header_normalisation_ignores_spaces_and_full_width_brackets():
    """'营业收入 （万元）' is read as the known header '营业收入(万元)'."""
    assert normalise_header("营业收入 （万元）") == normalise_header("营业收入(万元)")


def test_suggestion_names_the_closest_header():
    """A one-character slip in a header is answered with the intended header."""
    assert suggest(kinds()["enterprise_years"], "营业收人(万元)") == "营业收入(万元)"
