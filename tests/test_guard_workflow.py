"""Workflow guards through the web: comments required, expert scores, the notice's last day, region scope
of drafts, and the actions no other test takes (reject, revoke, objection, site_check, return/resubmit)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_web_workflow import client_as, do, new_application, stage, web  # noqa: F401 (web: a fixture)
from web_fakes import csrf_of

from smecluster.db import session_scope
from smecluster.workflow.applications import WorkflowError
from smecluster.workflow.reviews import score_application


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: these guards are HTTP and Python rules that the database engine does not change, and CI
    time is short; the same code paths run on PostgreSQL in test_web_workflow, test_web_accounts and
    test_web_audit."""
    return f"sqlite:///{tmp_path / 'test.db'}"


def _to_review(app) -> tuple[int, dict]:
    """A Changshu application taken to 'under review'; returns its id and the clients by role."""
    c = {u: client_as(app, u) for u in ("county_a", "city_a", "province", "expert")}
    app_id = new_application(c["county_a"])
    assert do(c["county_a"], app_id, "submit").status_code == 303
    assert do(c["city_a"], app_id, "recommend").status_code == 303
    assert do(c["province"], app_id, "start_review").status_code == 303
    return app_id, c


def _assign(c: dict, app_id: int) -> None:
    r = c["province"].post(f"/applications/{app_id}/experts",
                           data={"expert": "expert", "csrf_token": csrf_of(c["province"])}, follow_redirects=False)
    assert r.status_code == 303


def _score(c: dict, app_id: int, score: str):
    return c["expert"].post(f"/applications/{app_id}/score",
                            data={"score": score, "csrf_token": csrf_of(c["expert"])}, follow_redirects=False)


def _to_notice(app) -> tuple[int, dict]:
    app_id, c = _to_review(app)
    _assign(c, app_id)
    assert _score(c, app_id, "80").status_code == 303
    assert do(c["province"], app_id, "publish_notice").status_code == 303
    return app_id, c


# comments required


@pytest.mark.parametrize("action", ["reject", "site_check"])
def test_comment_required_under_review(web, action):  # noqa: F811
    """Reject and the on-site check record need a comment: without one, 400 and the stage stays."""
    app, _ = web
    app_id, c = _to_review(app)
    r = do(c["province"], app_id, action, "")
    assert r.status_code == 400
    assert stage(c["province"], app_id) == "under_review"
    assert do(c["province"], app_id, action, "现场核查：厂区与申报一致").status_code == 303


def test_reject_moves_to_rejected_with_its_comment(web):  # noqa: F811
    """Reject with a comment ends in 'rejected', and the county sees the reason."""
    app, _ = web
    app_id, c = _to_review(app)
    assert do(c["province"], app_id, "reject", "主导产业占比不足").status_code == 303
    assert stage(c["county_a"], app_id) == "rejected"
    assert "主导产业占比不足" in c["county_a"].get(f"/applications/{app_id}").text


def test_site_check_is_recorded_in_place(web):  # noqa: F811
    """The on-site check keeps the stage, raises the version and shows its comment."""
    app, _ = web
    app_id, c = _to_review(app)
    before = c["province"].get(f"/api/applications/{app_id}").json()["version"]
    assert do(c["province"], app_id, "site_check", "现场核查完成XYZ").status_code == 303
    after = c["province"].get(f"/api/applications/{app_id}").json()
    assert (after["stage"], after["version"]) == ("under_review", before + 1)
    assert "现场核查完成XYZ" in c["province"].get(f"/applications/{app_id}").text


def test_objection_needs_comment_and_keeps_the_notice(web):  # noqa: F811
    """An objection during the notice needs a comment and leaves the application in public notice."""
    app, _ = web
    app_id, c = _to_notice(app)
    assert do(c["province"], app_id, "objection", "").status_code == 400
    assert do(c["province"], app_id, "objection", "收到异议一件").status_code == 303
    assert stage(c["province"], app_id) == "public_notice"
    assert "收到异议一件" in c["province"].get(f"/applications/{app_id}").text


def test_return_needs_comment_then_resubmit(web):  # noqa: F811
    """Return needs a comment; a returned application can be submitted again and recommended."""
    app, _ = web
    county, city = client_as(app, "county_a"), client_as(app, "city_a")
    app_id = new_application(county)
    do(county, app_id, "submit")
    assert do(city, app_id, "return", "").status_code == 400
    assert stage(city, app_id) == "submitted"
    assert do(city, app_id, "return", "请补充平台证明").status_code == 303
    assert stage(county, app_id) == "returned"
    assert do(county, app_id, "submit").status_code == 303
    assert stage(county, app_id) == "submitted"
    assert do(city, app_id, "recommend").status_code == 303
    assert stage(city, app_id) == "recommended"


def test_revoke_needs_comment(web):  # noqa: F811
    """A recognised cluster is revoked only with a comment, and then it is 'revoked'."""
    app, clock = web
    app_id, c = _to_notice(app)
    clock.day += timedelta(days=14)
    assert do(c["province"], app_id, "recognise").status_code == 303
    assert do(c["province"], app_id, "revoke", "").status_code == 400
    assert stage(c["province"], app_id) == "recognised"
    assert do(c["province"], app_id, "revoke", "弄虚作假").status_code == 303
    assert stage(c["province"], app_id) == "revoked"


def test_only_the_province_rejects(web):  # noqa: F811
    """The city reviewer may not reject (403) and the stage stays."""
    app, _ = web
    app_id, c = _to_review(app)
    assert do(c["city_a"], app_id, "reject", "不行").status_code == 403
    assert stage(c["province"], app_id) == "under_review"


# expert scores and publishing the notice


def test_notice_needs_an_assigned_expert(web):  # noqa: F811
    """Publishing the notice with no expert assigned is refused."""
    app, _ = web
    app_id, c = _to_review(app)
    assert do(c["province"], app_id, "publish_notice").status_code == 400
    assert stage(c["province"], app_id) == "under_review"


def test_notice_needs_every_expert_score(web):  # noqa: F811
    """With an expert assigned but no score yet, publishing is refused; after the score it is allowed."""
    app, _ = web
    app_id, c = _to_review(app)
    _assign(c, app_id)
    r = do(c["province"], app_id, "publish_notice")
    assert r.status_code == 400
    assert stage(c["province"], app_id) == "under_review"
    assert _score(c, app_id, "75").status_code == 303
    assert do(c["province"], app_id, "publish_notice").status_code == 303


@pytest.mark.parametrize("score", ["100.5", "-1", "101"])
def test_score_outside_0_to_100_is_refused(web, score):  # noqa: F811
    """A score outside 0..100 is refused and the application still waits for a score."""
    app, _ = web
    app_id, c = _to_review(app)
    _assign(c, app_id)
    assert _score(c, app_id, score).status_code == 422  # the form refuses it before the service
    assert do(c["province"], app_id, "publish_notice").status_code == 400  # still unscored


@pytest.mark.parametrize("score", ["0", "100"])
def test_score_at_the_range_ends_is_accepted(web, score):  # noqa: F811
    """0 and 100 are inside the range."""
    app, _ = web
    app_id, c = _to_review(app)
    _assign(c, app_id)
    assert _score(c, app_id, score).status_code == 303


def test_expert_scores_once(web):  # noqa: F811
    """A second score by the same expert is refused; the first stays."""
    app, _ = web
    app_id, c = _to_review(app)
    _assign(c, app_id)
    assert _score(c, app_id, "61").status_code == 303
    again = _score(c, app_id, "99")
    assert again.status_code == 400
    page = c["province"].get(f"/applications/{app_id}").text
    assert "61" in page and ">99<" not in page


@pytest.mark.parametrize(("score", "ok"), [(-0.5, False), (0, True), (100, True), (100.01, False)])
def test_score_range_in_the_service(web, score, ok):  # noqa: F811
    """The review service itself keeps scores in 0..100 (the form is not the only guard)."""
    from sqlalchemy import select

    from smecluster.accounts.models import Account
    from smecluster.workflow.models import ExpertReview

    app, _ = web
    app_id, c = _to_review(app)
    _assign(c, app_id)
    with session_scope(app.state.engine) as s:
        expert = s.scalars(select(Account).where(Account.username == "expert")).one()
        who = type("Who", (), {"id": expert.id, "username": "expert", "role": "expert",
                               "region_code": expert.region_code, "uscc": None})()
        if ok:
            score_application(s, who, app_id, score)
        else:
            with pytest.raises(WorkflowError, match="^a score is between 0 and 100$"):
                score_application(s, who, app_id, score)
    with session_scope(app.state.engine) as s:
        stored = s.scalars(select(ExpertReview.score).where(ExpertReview.application_id == app_id)).one()
    assert stored == (score if ok else None)



def _who(s, username: str):
    """Just enough of an account for the workflow services."""
    from sqlalchemy import select

    from smecluster.accounts.models import Account

    a = s.scalars(select(Account).where(Account.username == username)).one()
    return type("Who", (), {"id": a.id, "username": a.username, "role": a.role, "region_code": a.region_code,
                            "uscc": a.uscc})()


def test_only_an_assigned_expert_scores_and_only_once(web):  # noqa: F811
    """An account that sees the application but is not one of its experts (the province) is refused saying so
    (403); an assigned expert scores once (score, comment and time stored), and a second score is refused saying
    it was given already."""
    from sqlalchemy import select

    from smecluster.workflow import audit
    from smecluster.workflow.applications import NotPermitted
    from smecluster.workflow.models import ExpertReview

    app, _ = web
    app_id, c = _to_review(app)
    _assign(c, app_id)
    with session_scope(app.state.engine) as s, pytest.raises(NotPermitted) as refused:
        score_application(s, _who(s, "province"), app_id, 70)
    assert str(refused.value) == "you are not assigned to this application"
    before = audit.utcnow()
    with session_scope(app.state.engine) as s:
        score_application(s, _who(s, "expert"), app_id, 70)
    with session_scope(app.state.engine) as s:
        stored = s.scalars(select(ExpertReview).where(ExpertReview.application_id == app_id)).one()
        assert (stored.score, stored.comment) == (70.0, "")  # no comment is stored empty
        assert before <= stored.scored_at <= audit.utcnow()  # when the expert scored is kept
    with session_scope(app.state.engine) as s, pytest.raises(WorkflowError) as refused:
        score_application(s, _who(s, "expert"), app_id, 80)
    assert str(refused.value) == "you have scored this application already"


def test_evidence_over_the_size_limit_is_refused_and_a_new_folder_is_made(web, tmp_path):  # noqa: F811
    """A file one byte over the limit is refused naming the limit in MB; the first file stored makes the
    evidence folder, parents included."""
    from web_fakes import PDF

    from smecluster.workflow.evidence import store_evidence

    app, _ = web
    app_id = new_application(client_as(app, "county_a"))
    limit = 1024 * 1024
    with session_scope(app.state.engine) as s, pytest.raises(WorkflowError) as refused:
        store_evidence(s, _who(s, "county_a"), app_id, "big.pdf", PDF + b"0" * (limit - len(PDF) + 1),
                       directory=tmp_path / "over", max_bytes=limit)
    assert str(refused.value) == "the file is larger than 1 MB"
    folder = tmp_path / "new" / "evidence"
    with session_scope(app.state.engine) as s:
        stored = store_evidence(s, _who(s, "county_a"), app_id, "a.pdf", PDF, directory=folder, max_bytes=limit)
        name = stored.stored_name
    assert (folder / name).read_bytes() == PDF and not (tmp_path / "over").exists()


def test_evidence_refusals_say_why(web, tmp_path):  # noqa: F811
    """A role that may not attach evidence (an assigned expert) is told so; once the application has left the
    applicant's stage, the applicant is told evidence can no longer be added, naming the stage."""
    from web_fakes import PDF

    from smecluster.workflow.applications import NotPermitted
    from smecluster.workflow.evidence import store_evidence

    app, _ = web
    app_id, c = _to_review(app)
    _assign(c, app_id)
    with session_scope(app.state.engine) as s, pytest.raises(NotPermitted) as refused:
        store_evidence(s, _who(s, "expert"), app_id, "a.pdf", PDF, directory=tmp_path, max_bytes=10**6)
    assert str(refused.value) == "your role may not attach evidence"
    with session_scope(app.state.engine) as s, pytest.raises(WorkflowError) as refused:
        store_evidence(s, _who(s, "county_a"), app_id, "a.pdf", PDF, directory=tmp_path, max_bytes=10**6)
    assert str(refused.value) == ("evidence can no longer be added: the application has left the applicant's "
                                  "stage (under_review)")


def test_the_workflow_service_refuses_a_control_character_naming_it(web):  # noqa: F811
    """Whatever the caller (the web forms check first), the service refuses a comment with ESC, naming it."""
    from smecluster.workflow.applications import act

    app, clock = web
    app_id = new_application(client_as(app, "county_a"))
    with session_scope(app.state.engine) as s, pytest.raises(WorkflowError) as refused:
        act(s, _who(s, "county_a"), app_id, "submit", 1, comment="看\x1b[31m这里", today=clock.day)
    assert str(refused.value) == "control character U+001B is not allowed in text"

# the notice's last day


def test_recognise_refused_on_the_last_day_of_notice_allowed_the_day_after(web):  # noqa: F811
    """Published Monday 2025-03-03: 5 working days end Monday 2025-03-10; recognising that day is refused,
    on Tuesday 2025-03-11 it is allowed."""
    app, clock = web
    assert clock.day == date(2025, 3, 3)
    app_id, c = _to_notice(app)
    assert c["province"].get(f"/api/applications/{app_id}").json()["notice_end"] == "2025-03-10"
    clock.day = date(2025, 3, 10)
    assert do(c["province"], app_id, "recognise").status_code == 400
    assert stage(c["province"], app_id) == "public_notice"
    clock.day = date(2025, 3, 11)
    assert do(c["province"], app_id, "recognise").status_code == 303
    assert stage(c["province"], app_id) == "recognised"


# region scope of drafts


def test_city_and_province_do_not_see_a_county_draft(web):  # noqa: F811
    """A draft is the county's own: its city and the province get 404 until it is submitted."""
    app, _ = web
    county, city, prov = (client_as(app, u) for u in ("county_a", "city_a", "province"))
    app_id = new_application(county)
    for viewer in (city, prov):
        assert viewer.get(f"/api/applications/{app_id}").status_code == 404
        assert "常熟市测试集群" not in viewer.get("/applications").text
    do(county, app_id, "submit")
    for viewer in (city, prov):
        assert viewer.get(f"/api/applications/{app_id}").status_code == 200


# the services behind the application list and "apply for a registry cluster"


def test_visible_applications_newest_first_and_in_scope(web):  # noqa: F811
    """The county sees its two drafts, newest first; the other county and the city see none of them."""
    from smecluster.accounts.models import Account
    from smecluster.workflow.applications import visible_applications

    app, _ = web
    county = client_as(app, "county_a")
    first, second = new_application(county), new_application(county)
    with session_scope(app.state.engine) as s:
        def who(name):
            return s.query(Account).filter_by(username=name).one()
        assert [a.id for a in visible_applications(s, who("county_a"))] == [second, first]
        assert visible_applications(s, who("county_b")) == [] and visible_applications(s, who("city_a")) == []


def test_open_application_for_a_registry_cluster(web):  # noqa: F811
    """Only the cluster's own county opens a draft for it (a cluster the registry holds as draft); an unknown
    cluster is not found."""
    from smecluster.accounts.models import Account
    from smecluster.registry.models import Cluster
    from smecluster.workflow.applications import NotPermitted, NotVisible, open_application

    app, _ = web
    with session_scope(app.state.engine) as s:
        changshu = s.query(Cluster).filter_by(code="CS-FLUORINE").one()
        changshu.status = "draft"  # in the registry, never applied for (a recognised one: test_web_reapply)
        with pytest.raises(NotVisible, match="no cluster 999999"):
            open_application(s, s.query(Account).filter_by(username="county_a").one(), 999999, 2026)
        for other in ("county_b", "city_a"):
            with pytest.raises(NotPermitted, match="only the cluster's county bureau"):
                open_application(s, s.query(Account).filter_by(username=other).one(), changshu.id, 2026)
        draft = open_application(s, s.query(Account).filter_by(username="county_a").one(), changshu.id, 2026)
        assert (draft.stage, draft.version, draft.county_code, draft.year) == ("draft", 1, "320581", 2026)
        assert changshu.status == "draft"


def test_private_applications_hold_each_clusters_application_until_it_is_public(web):  # noqa: F811
    """A cluster's application under review is private; once on public notice it leaves the private map but
    stays in the map of every stage (the visibility rule reads both)."""
    from smecluster.workflow.applications import private_applications
    from smecluster.workflow.models import Application

    app, _ = web
    app_id, c = _to_review(app)
    engine = app.state.engine
    with session_scope(engine) as s:
        cluster_id = s.get(Application, app_id).cluster_id
    private = private_applications(engine)
    assert (private[cluster_id].id, private[cluster_id].stage) == (app_id, "under_review")
    _assign(c, app_id)
    assert _score(c, app_id, "80").status_code == 303
    assert do(c["province"], app_id, "publish_notice").status_code == 303
    assert cluster_id not in private_applications(engine)
    every = private_applications(engine, every_stage=True)
    assert (every[cluster_id].id, every[cluster_id].stage) == (app_id, "public_notice")


def test_open_application_adopts_a_recognised_registry_cluster(web):  # noqa: F811
    """A cluster the registry holds as recognised (in 2023) enters the workflow recognised, valid three years
    from that year's end, created by the county account; the audit entry names the standing it adopted; a
    second application is refused while this one is not over."""
    from smecluster.accounts.models import Account
    from smecluster.registry.models import Cluster
    from smecluster.workflow.applications import open_application
    from smecluster.workflow.models import AuditEntry

    app, _ = web
    with session_scope(app.state.engine) as s:
        county = s.query(Account).filter_by(username="county_a").one()
        changshu = s.query(Cluster).filter_by(code="CS-FLUORINE").one()
        changshu.status, changshu.year = "recognised", 2023
        adopted = open_application(s, county, changshu.id, 2026)
        assert (adopted.stage, adopted.valid_until, adopted.created_by) == ("recognised", date(2026, 12, 31),
                                                                            county.id)
        assert changshu.status == "recognised"
        entry = s.query(AuditEntry).filter_by(action="application.create",
                                              target=f"application:{adopted.id}").one()
        assert (entry.actor, entry.detail) == ("county_a", {"cluster": "CS-FLUORINE", "adopted": "recognised"})
        with pytest.raises(WorkflowError, match=f"already has application #{adopted.id} in stage recognised"):
            open_application(s, county, changshu.id, 2026)


def test_a_stale_version_on_an_untouched_application_names_nobody(web):  # noqa: F811
    """A version that is not the application's, with no change made yet: a conflict that names no one."""
    from smecluster.accounts.models import Account
    from smecluster.workflow.applications import Conflict, act

    app, clock = web
    app_id = new_application(client_as(app, "county_a"))
    with session_scope(app.state.engine) as s:
        county = s.query(Account).filter_by(username="county_a").one()
        with pytest.raises(Conflict) as refused:
            act(s, county, app_id, "submit", 2, today=clock.day)
    assert str(refused.value) == ("someone else changed this application since you opened it; it is now in stage "
                                  "draft. Nothing of yours was saved: review it and try again.")
    assert (refused.value.current_version, refused.value.current_stage, refused.value.by) == (1, "draft", None)



def test_a_stale_version_names_the_last_change_its_account_and_time(web):  # noqa: F811
    """A stale version after a submit: the conflict names the action, who took it and when; a change whose
    account is not recorded (the column may be empty) is said to be by "?"."""
    from sqlalchemy import update

    from smecluster.accounts.models import Account
    from smecluster.workflow.applications import Conflict, act
    from smecluster.workflow.models import Transition

    app, clock = web
    county_client = client_as(app, "county_a")
    app_id = new_application(county_client)
    assert do(county_client, app_id, "submit").status_code == 303
    with session_scope(app.state.engine) as s:
        county = s.query(Account).filter_by(username="county_a").one()
        with pytest.raises(Conflict) as refused:
            act(s, county, app_id, "submit", 1, today=clock.day)
    action, who, when = refused.value.by
    assert (action, who, refused.value.current_stage) == ("submit", "county_a", "submitted")
    assert str(refused.value) == (f"someone else changed this application since you opened it (submit by county_a "
                                  f"at {when}); it is now in stage submitted. Nothing of yours was saved: review "
                                  "it and try again.")
    with session_scope(app.state.engine) as s:
        s.execute(update(Transition).where(Transition.application_id == app_id).values(account_id=None))
    with session_scope(app.state.engine) as s:
        county = s.query(Account).filter_by(username="county_a").one()
        with pytest.raises(Conflict) as refused:
            act(s, county, app_id, "submit", 1, today=clock.day)
    assert refused.value.by == ("submit", "?", when)
    assert f"(submit by ? at {when})" in str(refused.value)

def test_an_empty_evidence_file_is_refused_saying_so(web):  # noqa: F811
    """An empty upload is refused with its reason ("文件为空", the catalogue's text of "the file is empty"),
    and nothing is stored."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    r = county.post(f"/applications/{app_id}/evidence", data={"csrf_token": csrf_of(county)},
                    files={"file": ("report.pdf", b"", "application/pdf")})
    assert r.status_code == 400 and "文件为空" in r.text
    folder = app.state.settings.evidence_dir
    assert not (folder.exists() and any(folder.iterdir()))


def test_a_new_applications_cluster_code_names_county_and_year(web):  # noqa: F811
    """The cluster a new application creates is coded APP-<county>-<year>-<six random hex digits>: two
    applications of one county and year get different codes."""
    import re

    from smecluster.registry.models import Cluster
    from smecluster.workflow.models import Application

    app, clock = web
    county = client_as(app, "county_a")
    ids = [new_application(county), new_application(county)]
    with session_scope(app.state.engine) as s:
        codes = [s.get(Cluster, s.get(Application, i).cluster_id).code for i in ids]
    year = clock.day.year
    assert all(re.fullmatch(rf"APP-320581-{year}-[0-9a-f]{{6}}", c) for c in codes), codes
    assert codes[0] != codes[1]


def test_members_not_in_the_registry_are_named_and_nothing_is_created(web):  # noqa: F811
    """Members the registry does not hold refuse the application, naming them (upper-cased, in order)."""
    from web_fakes import USCC

    from smecluster.accounts.models import Account
    from smecluster.workflow.applications import create_application
    from smecluster.workflow.models import Application

    app, _ = web
    ghosts = ["91320581MA1GHOST2X", "91320581ma1ghost1x"]
    with session_scope(app.state.engine) as s:
        county = s.query(Account).filter_by(username="county_a").one()
        with pytest.raises(WorkflowError) as refused:
            create_application(s, county, name="幽灵集群", leading_industries=["2614"],
                               members=[USCC[0], *ghosts], year=2026)
    assert str(refused.value) == "enterprise(s) not in the registry: 91320581MA1GHOST1X, 91320581MA1GHOST2X"
    with session_scope(app.state.engine) as s:
        assert s.query(Application).count() == 0


def test_two_experts_score_one_application_each_once(web):  # noqa: F811
    """Each assigned expert scores for themselves: a second expert's score is taken after the first's, and
    the notice waits for both."""
    from sqlalchemy import select
    from web_fakes import PASSWORD

    from smecluster.accounts.users import add_user
    from smecluster.workflow.models import ExpertReview

    app, _ = web
    with session_scope(app.state.engine) as s:
        add_user(s, "expert2", PASSWORD, "expert", region_code="320000", display_name="expert2")
    app_id, c = _to_review(app)
    c["expert2"] = client_as(app, "expert2")
    for name in ("expert", "expert2"):
        r = c["province"].post(f"/applications/{app_id}/experts",
                               data={"expert": name, "csrf_token": csrf_of(c["province"])}, follow_redirects=False)
        assert r.status_code == 303
    assert _score(c, app_id, "70").status_code == 303
    assert do(c["province"], app_id, "publish_notice").status_code == 400
    second = c["expert2"].post(f"/applications/{app_id}/score",
                               data={"score": "90", "csrf_token": csrf_of(c["expert2"])}, follow_redirects=False)
    assert second.status_code == 303
    with session_scope(app.state.engine) as s:
        scores = s.scalars(select(ExpertReview.score).where(ExpertReview.application_id == app_id)
                           .order_by(ExpertReview.id)).all()
    assert scores == [70, 90]
    assert do(c["province"], app_id, "publish_notice").status_code == 303


def test_only_an_active_expert_account_is_assigned_and_only_once(web):  # noqa: F811
    """Assigning an account that is not an expert, an unknown name or a disabled expert is refused naming it;
    an active expert is assigned once (a second assignment is refused) and nothing else is stored."""
    from sqlalchemy import select, update

    from smecluster.accounts.models import Account
    from smecluster.workflow.models import ExpertReview
    from smecluster.workflow.reviews import assign_expert

    app, _ = web
    app_id, _c = _to_review(app)
    for name in ("county_a", "nobody"):
        with session_scope(app.state.engine) as s, pytest.raises(WorkflowError) as refused:
            assign_expert(s, _who(s, "province"), app_id, name)
        assert str(refused.value) == f"{name} is not an active expert account"
    with session_scope(app.state.engine) as s:
        s.execute(update(Account).where(Account.username == "expert").values(active=False))
    with session_scope(app.state.engine) as s, pytest.raises(WorkflowError) as refused:
        assign_expert(s, _who(s, "province"), app_id, "expert")
    assert str(refused.value) == "expert is not an active expert account"
    with session_scope(app.state.engine) as s:
        s.execute(update(Account).where(Account.username == "expert").values(active=True))
    with session_scope(app.state.engine) as s:
        assign_expert(s, _who(s, "province"), app_id, "expert")
    with session_scope(app.state.engine) as s, pytest.raises(WorkflowError) as refused:
        assign_expert(s, _who(s, "province"), app_id, "expert")
    assert str(refused.value) == "expert is assigned already"
    with session_scope(app.state.engine) as s:
        reviews = s.scalars(select(ExpertReview).where(ExpertReview.application_id == app_id)).all()
        expert_id = s.scalars(select(Account.id).where(Account.username == "expert")).one()
    assert [r.expert_id for r in reviews] == [expert_id]


def test_a_new_application_names_what_it_cannot_use(web):  # noqa: F811
    """A county's new application is refused naming the unknown industry codes and the firms missing from the
    registry (each in the order given); nothing is stored."""
    from sqlalchemy import func, select
    from web_fakes import USCC

    from smecluster.workflow.applications import create_application
    from smecluster.workflow.models import Application

    app, _ = web
    cases = [(["2614", "9998", "0000"], [USCC[0]], "unknown industry code(s): 9998, 0000"),
             (["2614"], [USCC[0], "91320000XXXXXXXXX1"], "enterprise(s) not in the registry: 91320000XXXXXXXXX1")]
    for industries, members, message in cases:
        with session_scope(app.state.engine) as s, pytest.raises(WorkflowError) as refused:
            create_application(s, _who(s, "county_a"), name="常熟市测试集群", leading_industries=industries,
                               members=members, year=2024)
        assert str(refused.value) == message
    with session_scope(app.state.engine) as s:
        assert s.scalar(select(func.count()).select_from(Application)) == 0
