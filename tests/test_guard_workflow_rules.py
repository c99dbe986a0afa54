"""The workflow pack's rules read through the Workflow object, against tables written by hand from the
policy text (POLICY.md J10-J12) and the pack: public stages, evidence stages, who may act where, the
notice's working days and the validity's end; and the pack checks that refuse a broken workflow."""

from __future__ import annotations

from datetime import date

import pytest

from smecluster.policy.pack import PACK_DIR, PackError
from smecluster.workflow.definition import load_workflow


@pytest.fixture(scope="module")
def wf():
    """The default workflow (jiangsu-workflow-2023)."""
    return load_workflow()


def test_public_and_private_stages(wf):
    """Public notice, recognised, re-review and revoked are public; the rest only in scope."""
    assert wf.public_stages == {"public_notice", "recognised", "re_review", "revoked"}
    assert wf.private_stages == {"draft", "submitted", "returned", "recommended", "under_review", "rejected"}


@pytest.mark.parametrize(("stage", "takes"), [("draft", True), ("returned", True), ("submitted", False),
                                              ("under_review", False), ("recognised", False), ("nowhere", False)])
def test_only_the_applicants_stages_take_evidence(wf, stage, takes):
    """New evidence files only while the county holds the application."""
    assert wf.takes_evidence(stage) is takes


@pytest.mark.parametrize(("stage", "role", "actions"), [
    ("draft", "county_applicant", ["submit"]),
    ("returned", "county_applicant", ["submit"]),
    ("submitted", "city_reviewer", ["recommend", "return"]),
    ("submitted", "province_admin", ["return"]),
    ("submitted", "county_applicant", []),
    ("recommended", "province_admin", ["return", "start_review"]),
    ("under_review", "province_admin", ["site_check", "publish_notice", "reject"]),
    ("under_review", "city_reviewer", []),
    ("public_notice", "province_admin", ["objection", "recognise", "reject"]),
    ("recognised", "county_applicant", ["yearly_report"]),
    ("recognised", "province_admin", ["start_re_review", "revoke"]),
    ("re_review", "province_admin", ["keep", "revoke"]),
    ("rejected", "province_admin", []),
    ("draft", None, []),
])
def test_available_actions(wf, stage, role, actions):
    """Who may do what in each stage, in the pack's order."""
    assert [a.id for a in wf.available(stage, role)] == actions


@pytest.mark.parametrize(("start", "end"), [
    (date(2025, 3, 3), date(2025, 3, 10)),    # Monday -> next Monday
    (date(2025, 3, 5), date(2025, 3, 12)),    # Wednesday -> next Wednesday
    (date(2025, 3, 8), date(2025, 3, 14)),    # Saturday: Monday to Friday
    (date(2025, 3, 9), date(2025, 3, 14)),    # Sunday
    (date(2025, 3, 7), date(2025, 3, 14)),    # Friday (the weekend skipped)
])
def test_notice_end_after_five_working_days(wf, start, end):
    """公示5个工作日 (J11), counted from the day after the notice starts."""
    assert wf.notice_end(start) == end


@pytest.mark.parametrize(("start", "end"), [
    (date(2024, 2, 29), date(2027, 2, 28)),   # no 29 February in 2027
    (date(2024, 2, 28), date(2027, 2, 28)),
    (date(2025, 12, 31), date(2028, 12, 31)),
])
def test_validity_end_three_years_on(wf, start, end):
    """Three years (J12, UNVERIFIED); a recognition of 29 February ends on 28 February."""
    assert wf.validity_end(start) == end


def test_flags_of_the_actions(wf):
    """Which actions need a comment, start the notice or the validity, and attach the verdict."""
    flags = {a.id: (a.comment_required, a.starts_notice, a.starts_validity, a.attach_verdict, tuple(a.requires))
             for a in wf.actions}
    assert {k for k, v in flags.items() if v[0]} == {"return", "site_check", "objection", "reject", "revoke"}
    assert {k for k, v in flags.items() if v[1]} == {"publish_notice"}
    assert {k for k, v in flags.items() if v[2]} == {"recognise", "keep"}
    assert {k for k, v in flags.items() if v[3]} == {"start_review"}
    assert {k: v[4] for k, v in flags.items() if v[4]} == {
        "publish_notice": ("all_experts_scored",), "recognise": ("notice_period_over",),
        "start_re_review": ("validity_ending",)}


def _broken(tmp_path, old: str, new: str) -> str:
    src = (PACK_DIR / "jiangsu-workflow-2023.yaml").read_text(encoding="utf-8")
    assert old in src
    bad = tmp_path / "bad-workflow.yaml"
    bad.write_text(src.replace(old, new, 1), encoding="utf-8")
    return str(bad)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("roles: [city_reviewer]}", "roles: [mayor]}", "action recommend: unknown role 'mayor'"),
    ("requires: [all_experts_scored]", "requires: [all_experts_happy]",
     "action publish_notice: unknown check 'all_experts_happy'; known: all_experts_scored, notice_period_over, "
     "validity_ending"),
    ("from: [draft, returned]", "from: [draft, retuned]", "action submit: unknown stage 'retuned'"),
    ("  notice_working_days: 5 ", "  notice_days: 5 ", "parameters lack notice_working_days"),
    ("  validity_years: 3 ", "  validity: 3 ", "parameters lack validity_years"),
    ("en: Submit, ", "english: Submit, ", "bad workflow tables"),
])
def test_broken_workflow_pack_is_refused(tmp_path, old, new, message):
    """A workflow pack naming an unknown role, check or stage, lacking a deadline parameter, of another
    kind or with a malformed row fails to load, naming what is wrong."""
    with pytest.raises(PackError, match=message.replace("(", r"\(")):
        load_workflow.__wrapped__(_broken(tmp_path, old, new))


def test_a_pack_of_another_kind_is_not_a_workflow():
    """The cluster recognition pack is refused as a workflow, naming its kind."""
    with pytest.raises(PackError, match="jiangsu-cluster-2023: kind is cluster_recognition, not workflow"):
        load_workflow.__wrapped__("jiangsu-cluster-2023")
