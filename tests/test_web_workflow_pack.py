"""The workflow as data: stages, actions, roles and deadlines come from the workflow pack."""

from __future__ import annotations

from datetime import date

import pytest

from smecluster.policy.pack import PACK_DIR, PackError
from smecluster.workflow.definition import load_workflow


def test_pack_defines_the_whole_path():
    """Every stage of the process is reachable from draft through the pack's actions."""
    wf = load_workflow()
    reached, frontier = {"draft"}, ["draft"]
    while frontier:
        stage = frontier.pop()
        for a in wf.actions:
            if stage in a.from_ and a.to not in reached:
                reached.add(a.to)
                frontier.append(a.to)
    assert reached == {s.id for s in wf.stages}


def test_notice_counts_working_days():
    """Five working days from Friday 2025-03-07 end on Friday 2025-03-14 (weekend skipped)."""
    assert load_workflow().notice_end(date(2025, 3, 7)) == date(2025, 3, 14)


def test_validity_from_pack_parameter():
    """Recognition granted 2025-06-30 is valid until 2028-06-30 (3 years, UNVERIFIED parameter)."""
    assert load_workflow().validity_end(date(2025, 6, 30)) == date(2028, 6, 30)


def test_unknown_stage_in_pack_is_refused(tmp_path):
    """A workflow pack whose action names an unknown stage fails to load with the action named."""
    src = (PACK_DIR / "jiangsu-workflow-2023.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad-workflow.yaml"
    bad.write_text(src.replace("to: recommended,", "to: recomended,"), encoding="utf-8")
    with pytest.raises(PackError, match="action recommend: unknown stage 'recomended'"):
        load_workflow.__wrapped__(str(bad))
