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


def test_notice_skips_public_holidays_and_counts_adjusted_weekends():
    """From Monday 2026-09-28: 29 and 30 September, then the National Day holiday (1-7 October, by the
    State Council's 2026 notice), then Thursday 8, Friday 9 and Saturday 10 October, a working Saturday
    (调休). Monday to Friday would have ended on 5 October, inside the holiday."""
    assert load_workflow().notice_end(date(2026, 9, 28)) == date(2026, 10, 10)


def test_spring_festival_is_not_a_working_day():
    """2026-02-17 (初一, a Tuesday) is a holiday; 2026-02-14 (a Saturday) is an adjusted working day."""
    from smecluster.workflow.working_days import is_working_day, known

    assert not is_working_day(date(2026, 2, 17)) and is_working_day(date(2026, 2, 14))
    assert is_working_day(date(2026, 2, 24)) and known(date(2026, 2, 24))


def test_a_year_not_yet_published_counts_monday_to_friday():
    from smecluster.workflow.working_days import add_working_days, known

    far = date(2099, 3, 6)  # a Friday of a year no calendar carries
    assert not known(far) and add_working_days(far, 5) == date(2099, 3, 13)


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
