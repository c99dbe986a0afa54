"""Account rules the mutation run (bench/mutation.py) found unguarded, with values written here from the rules:
who the audit trail names for command-line account work, token refusals, the password policy's edges, user
names and region scope, sessions' idle and absolute edges, an enterprise's own figures, new accounts, grants,
the demo accounts and password changes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner
from web_fakes import PASSWORD, USCC, make_users, seed

from smecluster.accounts.demo import create_demo_accounts
from smecluster.accounts.enterprise_data import FiguresError, update_own_figures
from smecluster.accounts.models import Account, LoginSession
from smecluster.accounts.passwords import PasswordPolicyError, check_policy
from smecluster.accounts.roles import check_role_scope, covers, region_level, region_prefix
from smecluster.accounts.sessions import lookup_session, resolve_session, session_digest, start_session
from smecluster.accounts.settings import security_settings
from smecluster.accounts.users import (
    AccountError,
    add_user,
    authenticate,
    change_password,
    create_account,
    disable_user,
    find_user,
    grant_role,
    redeem_token,
)
from smecluster.cli.main import app as cli
from smecluster.db import open_database, session_scope
from smecluster.registry.models import Cluster, EnterpriseYear
from smecluster.workflow.audit import utcnow
from smecluster.workflow.models import AuditEntry

NEW = "Another-Passw0rd-7"
TOKEN_REFUSED = "this token is unknown, used or expired; ask the system administrator for a new one"


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: the rules are Python; the same paths run on PostgreSQL in test_web_accounts."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def engine(database_url):
    """A database with regions and one account per role."""
    eng = open_database(database_url)
    seed(eng)
    make_users(eng)
    return eng


def _entries(engine, target: str) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        rows = s.execute(select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.target == target)
                         .order_by(AuditEntry.id)).all()
    return [tuple(r) for r in rows]


def test_command_line_account_work_is_audited_as_cli(engine, database_url):
    """`user add|grant|reset|disable` run by an operator at the console: each entry names the actor "cli"."""
    runner = CliRunner()
    db = ["--db", database_url, "user"]
    assert runner.invoke(cli, [*db, "add", "opsuser", "--role", "city_reviewer", "--region", "320300",
                               "--password", PASSWORD]).exit_code == 0
    assert runner.invoke(cli, [*db, "grant", "opsuser", "--role", "county_applicant",
                               "--region", "320312"]).exit_code == 0
    assert runner.invoke(cli, [*db, "reset", "opsuser"]).exit_code == 0
    assert runner.invoke(cli, [*db, "reset", "opsuser", "--password", NEW]).exit_code == 0
    assert runner.invoke(cli, [*db, "disable", "opsuser"]).exit_code == 0
    assert _entries(engine, "account:opsuser") == [
        ("cli", "user.add"), ("cli", "user.grant"), ("cli", "user.reset"), ("cli", "user.reset"),
        ("cli", "user.disable"),
    ]


def test_create_account_without_actor_is_audited_as_cli(engine):
    """The service's default actor is the command line."""
    with session_scope(engine) as s:
        create_account(s, "fresh")
    assert _entries(engine, "account:fresh") == [("cli", "user.create")]


def test_token_of_a_disabled_account_is_refused_like_an_unknown_one(engine):
    """A token issued before the account was disabled does not set a password: the same words as an unknown one."""
    with session_scope(engine) as s:
        token = create_account(s, "leaver")
    with session_scope(engine) as s:
        disable_user(s, "leaver")
    with session_scope(engine) as s, pytest.raises(AccountError) as refused:
        redeem_token(s, token, NEW)
    assert str(refused.value) == TOKEN_REFUSED
    with session_scope(engine) as s, pytest.raises(AccountError) as unknown:
        redeem_token(s, "no-such-token", NEW)
    assert str(unknown.value) == TOKEN_REFUSED


# The password policy at its edges (decision 0800: 12 characters by default, three of four classes, no user name).


@pytest.mark.parametrize(("password", "min_length", "ok"), [
    ("Abcdefghij1k", 12, True),     # 12 characters, lower + upper + digit
    ("Abcdefghij1", 12, False),     # 11
    ("Abcdefgh1k", 10, True),       # a lower minimum from the security settings
    ("Abcdefg1k", 10, False),
])
def test_password_length_edge(password, min_length, ok):
    """Exactly the minimum passes, one less is refused with the minimum in the message."""
    if ok:
        check_policy(password, "someone", min_length)
    else:
        with pytest.raises(PasswordPolicyError, match=f"at least {min_length} characters"):
            check_policy(password, "someone", min_length)


@pytest.mark.parametrize(("password", "ok"), [
    ("abcdefghiJK1", True), ("abcdefghiJK!", True), ("abcdefghijk1!", True), ("ABCDEFGHIJK1!", True),
    ("abcdefghijkL", False), ("abcdefghijk1", False), ("abcdefghijk!", False), ("ABCDEFGHIJK1", False),
    ("ABCDEFGHIJK!", False), ("123456789012!", False),
])
def test_password_needs_three_of_four_classes(password, ok):
    """Each class counts once: any three of lower, upper, digit, symbol pass; any two are refused."""
    if ok:
        check_policy(password, "someone")
    else:
        with pytest.raises(PasswordPolicyError, match="three of"):
            check_policy(password, "someone")


def test_password_with_the_user_name_in_any_case_is_refused():
    """The user name inside the password, whatever its case, is refused; an empty user name checks nothing."""
    with pytest.raises(PasswordPolicyError, match="user name"):
        check_policy("xxCOUNTY_Axx-9", "county_a")
    check_policy("xxCOUNTY_Axx-9", "")


# User names and region scope


def test_user_name_has_one_to_64_characters(engine):
    """64 characters are taken, 65 and none are refused."""
    with session_scope(engine) as s:
        create_account(s, "u" * 64)
    for bad in ("u" * 65, ""):
        with session_scope(engine) as s, pytest.raises(AccountError, match="1 to 64 characters"):
            create_account(s, bad)


def test_a_second_account_of_the_same_name_is_refused_naming_it(engine):
    """The refusal of a name already taken says so and names it (the words the administrator reads)."""
    with session_scope(engine) as s:
        create_account(s, "twin")
    with session_scope(engine) as s, pytest.raises(AccountError) as refused:
        create_account(s, "twin")
    assert str(refused.value) == "an account named twin exists already"


def test_a_scope_outside_the_known_regions_is_refused_naming_the_code(engine):
    """A county code of the right form that is not in the region table is refused, saying which code."""
    with session_scope(engine) as s, pytest.raises(AccountError) as refused:
        grant_role(s, "city_a", "county_applicant", region_code="320599", actor="secadmin")
    assert str(refused.value) == "unknown region code 320599"


def test_an_added_user_is_audited_with_role_and_region(engine):
    """`user.add` names the new account and records the role and the region it was given."""
    with session_scope(engine) as s:
        add_user(s, "newreviewer", PASSWORD, "city_reviewer", region_code="320300", actor="secadmin")
    with session_scope(engine) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.add",
                                                   AuditEntry.target == "account:newreviewer")).one()
        assert (entry.actor, entry.detail) == ("secadmin", {"role": "city_reviewer", "region": "320300"})


def test_a_login_is_audited_on_the_account_by_its_owner(engine):
    """A successful login leaves `login.ok` by the account itself, on `account:<name>`."""
    with session_scope(engine) as s:
        assert authenticate(s, "county_a", PASSWORD).account is not None
    assert ("county_a", "login.ok") in _entries(engine, "account:county_a")


@pytest.mark.parametrize(("code", "level", "prefix"), [
    ("320000", "province", "32"), ("320500", "city", "3205"), ("320581", "county", "320581"),
    ("110100", "city", "1101"),
])
def test_region_level_and_prefix(code, level, prefix):
    """GB/T 2260: xx0000 a province, xxxx00 a city, anything else a county."""
    assert region_level(code) == level and region_prefix(code) == prefix


def test_covers_only_inside_the_scope():
    """A county covers itself only; a missing scope or county covers nothing."""
    assert covers("320581", "320581") and not covers("320581", "320582")
    assert covers("320500", "320582") and not covers("320500", "320312")
    assert not covers(None, "320581") and not covers("320000", None) and not covers("", "320581")


@pytest.mark.parametrize(("role", "region", "uscc", "message"), [
    ("enterprise_user", None, None, "needs an enterprise"),
    ("county_applicant", None, None, "needs a county region code"),
    ("county_applicant", "320500", None, "needs a county code; 320500 is a city"),
    ("city_reviewer", "320581", None, "needs a city code; 320581 is a county"),
    ("province_admin", "320500", None, "needs a province code; 320500 is a city"),
    ("system_admin", None, "91320581MA1TEXT01X", "takes no region or enterprise"),
    ("mayor", "320000", None, "unknown role 'mayor'"),
])
def test_role_scope_refusals(role, region, uscc, message):
    """Each role takes its own kind of scope; the refusal names what is missing."""
    with pytest.raises(ValueError, match=message):
        check_role_scope(role, region, uscc)


def test_role_scope_accepted():
    """The right level is taken."""
    check_role_scope("city_reviewer", "320500", None)
    check_role_scope("province_admin", "320000", None)
    check_role_scope("enterprise_user", None, "91320581MA1TEXT01X")
    check_role_scope("audit_admin", None, None)


# Sessions at their edges: idle 30 minutes, at most 8 hours, last_seen written at most once a minute


def _open_session(engine) -> tuple[str, datetime]:
    with session_scope(engine) as s:
        token, _ = start_session(s, find_user(s, "county_a"))
    with session_scope(engine) as s:
        row = s.get(LoginSession, session_digest(token))
        assert row.expires_at - row.created_at == timedelta(hours=8)  # the default absolute limit
        return token, row.last_seen


def _last_seen(engine, token: str) -> datetime | None:
    with session_scope(engine) as s:
        row = s.get(LoginSession, session_digest(token))
        return row.last_seen if row else None


def test_default_security_settings(engine):
    """The defaults written in decision 0803 and the security page: 5 failures, 30 minutes, 30, 8 hours, 12."""
    with session_scope(engine) as s:
        assert security_settings(s) == {"lockout_threshold": 5, "lockout_minutes": 30, "session_idle_minutes": 30,
                                        "session_max_hours": 8, "password_min_length": 12}


def test_idle_edge_of_a_web_session(engine):
    """Idle exactly 30 minutes: still live (and last_seen moves on); 30 minutes and a second: over, deleted."""
    token, seen = _open_session(engine)
    assert lookup_session(engine, token, now=seen + timedelta(minutes=30)) is not None
    assert _last_seen(engine, token) == seen + timedelta(minutes=30)
    later = seen + timedelta(minutes=60, seconds=1)
    assert lookup_session(engine, token, now=later) is None
    assert _last_seen(engine, token) is None


def test_last_seen_is_written_after_a_minute_only(engine):
    """A request 60 seconds after the last write leaves last_seen; one at 61 seconds moves it."""
    token, seen = _open_session(engine)
    found = lookup_session(engine, token, now=seen + timedelta(seconds=60))
    assert found is not None and found.username == "county_a" and found.role == "county_applicant"
    assert found.region_code == "320581" and found.csrf_token and not found.must_change_password
    assert _last_seen(engine, token) == seen
    assert lookup_session(engine, token, now=seen + timedelta(seconds=61)) is not None
    assert _last_seen(engine, token) == seen + timedelta(seconds=61)


def test_absolute_edge_of_a_web_session(engine):
    """However active, a session ends when its 8 hours are up: a second before is live, the moment itself not."""
    token, seen = _open_session(engine)
    with session_scope(engine) as s:
        s.get(LoginSession, session_digest(token)).last_seen = seen + timedelta(hours=8)  # active to the end
    end = seen + timedelta(hours=8)
    assert lookup_session(engine, token, now=end - timedelta(seconds=1)) is not None
    assert lookup_session(engine, token, now=end) is None
    assert _last_seen(engine, token) is None


def test_idle_and_absolute_edges_of_the_service_session(engine):
    """resolve_session (the CLI and services' path) has the same edges."""
    token, seen = _open_session(engine)
    with session_scope(engine) as s:
        assert resolve_session(s, token, clock_now=seen + timedelta(seconds=60)) is not None
    assert _last_seen(engine, token) == seen
    with session_scope(engine) as s:
        account, _ = resolve_session(s, token, clock_now=seen + timedelta(minutes=30))
        assert account.username == "county_a"
    assert _last_seen(engine, token) == seen + timedelta(minutes=30)
    with session_scope(engine) as s:
        s.get(LoginSession, session_digest(token)).last_seen = seen + timedelta(hours=8)
    with session_scope(engine) as s:
        assert resolve_session(s, token, clock_now=seen + timedelta(hours=8)) is None
    assert _last_seen(engine, token) is None
    assert lookup_session(engine, None) is None and lookup_session(engine, "no-such-token") is None


def test_session_of_a_disabled_account_is_over(engine):
    """Disabling ends sessions; a session row left behind for a disabled account is refused too."""
    token, seen = _open_session(engine)
    with session_scope(engine) as s:
        find_user(s, "county_a").active = False
    assert lookup_session(engine, token, now=seen) is None
    token2, seen2 = _open_session(engine)
    with session_scope(engine) as s:
        assert resolve_session(s, token2, clock_now=seen2) is None


# An enterprise's own figures (the service behind /enterprise/figures)


def _firm(engine, username: str = "firm_a") -> Account:
    with session_scope(engine) as s:
        user = find_user(s, username)
        s.expunge(user)
        return user


def test_figures_are_parsed_stored_and_audited_with_old_values(engine):
    """"1,234.5" is 1234.5, "12.0" people is 12, blank leaves a figure; the audit names the firm and keeps old
    and new; the firm's clusters come back (USCC[0] is in the Changshu cluster only)."""
    firm = _firm(engine)
    with session_scope(engine) as s:
        changshu = s.scalar(select(Cluster.id).where(Cluster.code == "CS-FLUORINE"))
        clusters = update_own_figures(s, firm, 2024, {"revenue": " 1,234.5 ", "employees": "12.0", "output": ""})
    assert clusters == [changshu]
    with session_scope(engine) as s:
        update_own_figures(s, firm, 2024, {"revenue": "2000", "cloud": "no"})
    with session_scope(engine) as s:
        row = s.get(EnterpriseYear, (USCC[0], 2024))
        assert (row.revenue, row.employees, row.output, row.cloud) == (2000.0, 12, None, False)
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "enterprise.figures")
                                 .order_by(AuditEntry.id)))
    assert [(e.actor, e.target) for e in entries] == [("firm_a", f"enterprise:{USCC[0]}")] * 2
    assert entries[0].detail == {"year": 2024, "old": {"revenue": None, "employees": None},
                                 "new": {"revenue": 1234.5, "employees": 12}}
    assert entries[1].detail == {"year": 2024, "old": {"revenue": 1234.5, "cloud": None},
                                 "new": {"revenue": 2000.0, "cloud": False}}


@pytest.mark.parametrize(("values", "message"), [
    ({"revenue": "lots"}, "revenue: lots is not a number"),
    ({"rd_staff": "2.5"}, "rd_staff: a whole number of people"),
    ({"output": "-0.1"}, "output: must not be negative"),
    ({"cloud": "maybe"}, "cloud: answer yes or no"),
    ({"revenue": " ", "cloud": ""}, "no figure given"),
])
def test_bad_figures_are_refused_naming_the_field(engine, values, message):
    """Each refusal names the field and the reason; nothing is stored."""
    firm = _firm(engine)
    with session_scope(engine) as s, pytest.raises(FiguresError) as refused:
        update_own_figures(s, firm, 2024, values)
    assert str(refused.value) == message
    with session_scope(engine) as s:
        assert s.get(EnterpriseYear, (USCC[0], 2024)) is None


def test_only_an_enterprise_account_of_a_registered_firm_updates_figures(engine):
    """Another role, or an enterprise account whose firm is not in the registry, is refused."""
    county = _firm(engine, "county_a")
    with session_scope(engine) as s, pytest.raises(FiguresError, match="only an enterprise account"):
        update_own_figures(s, county, 2024, {"revenue": "1"})
    ghost = _firm(engine)
    ghost.uscc = "91320581MA1GHOST0X"
    with session_scope(engine) as s, pytest.raises(FiguresError, match="not in the registry"):
        update_own_figures(s, ghost, 2024, {"revenue": "1"})


def test_new_account_waits_for_its_owner(engine):
    """A web-created account has no role, no usable password and no forced change; the token sets a password."""
    with session_scope(engine) as s:
        token = create_account(s, "newbie", "新同事", actor="sysadmin")
    with session_scope(engine) as s:
        user = find_user(s, "newbie")
        assert (user.role, user.password_hash, user.must_change_password, user.display_name, user.active) == \
            ("", "!", False, "新同事", True)
    with session_scope(engine) as s:
        redeem_token(s, token, NEW)
    with session_scope(engine) as s:
        assert not find_user(s, "newbie").must_change_password


def test_grant_is_audited_with_old_and_new_scope(engine):
    """The entry keeps the role and region before and after."""
    with session_scope(engine) as s:
        grant_role(s, "city_a", "county_applicant", region_code="320581", actor="secadmin")
    with session_scope(engine) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.grant")).one()
    assert (entry.actor, entry.target) == ("secadmin", "account:city_a")
    assert entry.detail == {"old": {"role": "city_reviewer", "region": "320500", "uscc": None},
                            "role": "county_applicant", "region": "320581", "uscc": None}


def test_demo_accounts_one_per_role_with_their_names(engine):
    """The demo accounts, written out here, plus a firm account for the first Changshu firm; a second run adds
    none; each is audited as made by "demo"."""
    with session_scope(engine) as s:
        made = create_demo_accounts(s)
    assert [(u, r) for u, r, _ in made] == [
        ("demo_province", "province_admin"), ("demo_city", "city_reviewer"), ("demo_county", "county_applicant"),
        ("demo_county2", "county_applicant"), ("demo_expert", "expert"), ("demo_ministry", "ministry"),
        ("demo_sysadmin", "system_admin"),
        ("demo_secadmin", "security_admin"), ("demo_auditor", "audit_admin"), ("demo_firm", "enterprise_user")]
    with session_scope(engine) as s:
        rows = {a.username: (a.region_code, a.uscc, a.display_name)
                for a in s.scalars(select(Account).where(Account.username.like("demo_%")))}
        actors = set(s.scalars(select(AuditEntry.actor).where(AuditEntry.action == "user.add",
                                                              AuditEntry.target.like("account:demo_%"))))
    assert rows["demo_city"] == ("320500", None, "苏州市工信局（演示）")
    assert rows["demo_county2"] == ("320312", None, "铜山区工信局（演示）")
    assert rows["demo_auditor"] == (None, None, "安全审计员（演示）")
    assert rows["demo_ministry"] == (None, None, "工业和信息化部（演示）")  # the whole country: no region
    assert rows["demo_firm"] == (None, USCC[0], "演示企业")  # USCC[0] and [1] are in 常熟市 (320581)
    assert actors == {"demo"}
    for username, _, password in made:
        with session_scope(engine) as s:
            assert authenticate(s, username, password).account is not None
    with session_scope(engine) as s:
        assert create_demo_accounts(s) == []


def test_password_change_rules_and_sessions(engine):
    """The current password must be right, the new one differ and pass the policy; the change keeps the
    session that made it, ends the others, and is audited as the owner's."""
    with session_scope(engine) as s:
        me = find_user(s, "county_a")
        keep, _ = start_session(s, me)
        other, _ = start_session(s, me)
    with session_scope(engine) as s, pytest.raises(AccountError) as wrong:
        change_password(s, find_user(s, "county_a"), "Not-the-Passw0rd", NEW)
    assert str(wrong.value) == "the current password is wrong"
    with session_scope(engine) as s, pytest.raises(AccountError) as same:
        change_password(s, find_user(s, "county_a"), PASSWORD, PASSWORD)
    assert str(same.value) == "the new password must differ from the current one"
    with session_scope(engine) as s, pytest.raises(AccountError, match="at least 12 characters"):
        change_password(s, find_user(s, "county_a"), PASSWORD, "Sh0rt-pass")
    with session_scope(engine) as s:
        change_password(s, find_user(s, "county_a"), PASSWORD, NEW, keep_session=session_digest(keep))
    with session_scope(engine) as s:
        assert s.get(LoginSession, session_digest(keep)) is not None
        assert s.get(LoginSession, session_digest(other)) is None
        assert authenticate(s, "county_a", NEW).account is not None
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.password")).one()
        assert (entry.actor, entry.target) == ("county_a", "account:county_a")


def test_slots_held_past_the_wait_lock_the_account(engine, monkeypatch):
    """Every slot held (count at the threshold, no lock) by checks that never finished: once the wait is over
    the account locks for the configured minutes and the attempt is refused."""
    import smecluster.accounts.users as users

    monkeypatch.setattr(users, "BUSY_WAIT_SECONDS", 0.0)
    with session_scope(engine) as s:
        find_user(s, "county_a").failed_logins = 5
    with session_scope(engine) as s:
        assert authenticate(s, "county_a", PASSWORD).reason == "locked"
    with session_scope(engine) as s:
        user = find_user(s, "county_a")
        assert user.failed_logins == 0 and user.locked_until is not None
        minutes = (user.locked_until - utcnow()).total_seconds() / 60
    assert 29 < minutes <= 30


def test_refused_logins_are_audited_with_their_reason(engine):
    """An unknown name: reason "unknown user" and no account as target; a disabled account: "disabled"."""
    with session_scope(engine) as s:
        disable_user(s, "city_b")
    for name in ("nobody", "city_b"):
        with session_scope(engine) as s:
            assert authenticate(s, name, PASSWORD).account is None
    with session_scope(engine) as s:
        rows = s.execute(select(AuditEntry.actor, AuditEntry.target, AuditEntry.detail)
                         .where(AuditEntry.action == "login.fail").order_by(AuditEntry.id)).all()
    assert [tuple(r) for r in rows] == [("nobody", "", {"reason": "unknown user"}),
                                        ("city_b", "account:city_b", {"reason": "disabled"})]


def test_settings_are_read_again_after_five_seconds_or_when_forgotten(engine, monkeypatch):
    """Settings are read on every request, so a process keeps them 5 seconds: a change made elsewhere shows
    from the 5th second on, and at once where the cache is dropped (the admin page does so after a change)."""
    from types import SimpleNamespace

    from smecluster.accounts import settings as settings_module
    from smecluster.accounts.settings import cached_settings, change_setting, forget_cached_settings

    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(settings_module, "time", SimpleNamespace(monotonic=lambda: clock.now))
    forget_cached_settings()
    assert cached_settings(engine)["session_idle_minutes"] == 30
    with session_scope(engine) as s:
        change_setting(s, "session_idle_minutes", 60)
    clock.now = 1004.99
    assert cached_settings(engine)["session_idle_minutes"] == 30
    clock.now = 1005.0
    assert cached_settings(engine)["session_idle_minutes"] == 60
    with session_scope(engine) as s:
        change_setting(s, "session_idle_minutes", 90)
    assert cached_settings(engine)["session_idle_minutes"] == 60
    forget_cached_settings()
    assert cached_settings(engine)["session_idle_minutes"] == 90


def test_wrong_passwords_are_audited_and_the_fifth_says_it_locked(engine):
    """Each wrong password leaves a "bad password" entry on the account; the 5th (the threshold) says the
    account locked, the four before it say it did not; the 6th attempt finds it locked."""
    for _ in range(6):
        with session_scope(engine) as s:
            assert authenticate(s, "county_a", "Wrong-Passw0rd-1").account is None
    with session_scope(engine) as s:
        rows = s.execute(select(AuditEntry.target, AuditEntry.detail)
                         .where(AuditEntry.action == "login.fail").order_by(AuditEntry.id)).all()
    assert {r.target for r in rows} == {"account:county_a"}
    assert [r.detail for r in rows] == [{"reason": "bad password", "locked": False}] * 4 + [
        {"reason": "bad password", "locked": True}, {"reason": "locked"}]
