"""Audit chain under concurrent appends, exact lockout under parallel guesses, keyed chain and checkpoints."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text, update
from typer.testing import CliRunner
from web_fakes import PASSWORD, USERS, make_users, seed

import smecluster.accounts.users as users_module
from smecluster.accounts.models import Account
from smecluster.accounts.users import authenticate
from smecluster.cli.main import app as cli
from smecluster.db import open_database, session_scope
from smecluster.workflow import audit
from smecluster.workflow.audit import Checkpoint, checkpoint, entry_hash, verify
from smecluster.workflow.models import AuditEntry


@pytest.fixture
def engine(database_url):
    """A database with regions and one account per role."""
    eng = open_database(database_url)
    seed(eng)
    make_users(eng)
    return eng


def _attempt(engine, username: str, password: str) -> str:
    """One login attempt in its own session and connection, as the login route makes it."""
    with session_scope(engine) as s:
        result = authenticate(s, username, password)
        return "ok" if result.account is not None else result.reason


def _lock(engine, username: str) -> None:
    for _ in range(5):
        _attempt(engine, username, "Wrong-Password-1")
    with session_scope(engine) as s:
        assert s.scalars(select(Account.locked_until).where(Account.username == username)).one() is not None


def _shared_links(engine) -> list[str]:
    with session_scope(engine) as s:
        prevs = Counter(s.scalars(select(AuditEntry.prev_hash)))
    return [h for h, n in prevs.items() if n > 1]


def test_parallel_logins_to_locked_account_keep_one_chain(engine):
    """30 parallel logins to a locked account (appends with no earlier write) leave one unbroken chain."""
    _lock(engine, "county_a")
    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(lambda _: _attempt(engine, "county_a", PASSWORD), range(30)))
    assert answers == ["locked"] * 30
    assert _shared_links(engine) == []
    check = verify(engine)
    assert check.ok, check.breaks
    with session_scope(engine) as s:
        fails = s.scalar(select(text("count(*)")).select_from(AuditEntry).where(AuditEntry.action == "login.fail"))
    assert fails == 35


def test_parallel_mixed_appends_keep_one_chain(engine):
    """Unknown names, disabled accounts and good logins at once: every append chains onto the one before."""
    from smecluster.accounts.users import disable_user

    with session_scope(engine) as s:
        disable_user(s, "city_b")
    names = ["ghost", "city_b", "province", "expert"] * 10
    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(lambda n: _attempt(engine, n, PASSWORD), names))
    assert _shared_links(engine) == []
    assert verify(engine).ok


def test_parallel_wrong_passwords_check_at_most_the_threshold(engine, monkeypatch):
    """40 wrong passwords, 15 at once: at most 5 are checked, then the account is locked."""
    checks = []
    lock = threading.Lock()
    real = users_module.verify_password

    def counting(stored, password):
        if stored is not None and stored.startswith("$argon2"):
            with lock:
                checks.append(password)
            threading.Event().wait(0.02)  # widen the window between reading and counting
        return real(stored, password)

    monkeypatch.setattr(users_module, "verify_password", counting)
    # 15 at a time: the engine's pool (5 + 10 overflow), so no attempt waits 30 s for a connection on a busy machine
    with ThreadPoolExecutor(max_workers=15) as pool:
        answers = list(pool.map(lambda i: _attempt(engine, "county_b", f"Wrong-Password-{i}"), range(40)))
    assert len(checks) <= 5
    assert "ok" not in answers
    with session_scope(engine) as s:
        account = s.scalars(select(Account).where(Account.username == "county_b")).one()
        assert account.locked_until is not None
    # a sixth guess, even the right password, is not checked while locked
    assert _attempt(engine, "county_b", PASSWORD) == "locked"
    assert len(checks) <= 5
    assert verify(engine).ok


def test_parallel_right_passwords_all_log_in(engine, monkeypatch):
    """12 logins with the right password at once (one account, several browsers): every one succeeds,
    none is refused for want of a slot, and the account is left unlocked with no failures."""
    real = users_module.verify_password

    def slow(stored, password):
        threading.Event().wait(0.05)  # every attempt is in flight at once
        return real(stored, password)

    monkeypatch.setattr(users_module, "verify_password", slow)
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _: _attempt(engine, "province", PASSWORD), range(12)))
    assert answers == ["ok"] * 12
    with session_scope(engine) as s:
        account = s.scalars(select(Account).where(Account.username == "province")).one()
        assert (account.failed_logins, account.locked_until) == (0, None)
    assert verify(engine).ok


def test_lockout_counts_each_failure_in_a_row(engine):
    """Four wrong passwords leave the count at 4; a right one clears it; five in a row lock."""
    for _ in range(4):
        _attempt(engine, "expert", "Wrong-Password-1")
    with session_scope(engine) as s:
        assert s.scalars(select(Account.failed_logins).where(Account.username == "expert")).one() == 4
    assert _attempt(engine, "expert", PASSWORD) == "ok"
    with session_scope(engine) as s:
        assert s.scalars(select(Account.failed_logins).where(Account.username == "expert")).one() == 0
    _lock(engine, "expert")


def _drop_triggers(engine) -> None:
    """What a database owner can do: remove the append-only triggers."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("DROP TRIGGER audit_entry_append_only ON audit_entry"))
        else:
            c.execute(text("DROP TRIGGER audit_entry_no_update"))
            c.execute(text("DROP TRIGGER audit_entry_no_delete"))


def _rechain_plain(engine, start_id: int) -> None:
    """Recompute every hash from `start_id` on with plain SHA-256, as an owner without the key would."""
    with engine.begin() as c:
        rows = c.execute(select(AuditEntry).where(AuditEntry.id >= start_id).order_by(AuditEntry.id)).all()
        prev = c.execute(select(AuditEntry.hash).where(AuditEntry.id < start_id).order_by(AuditEntry.id.desc())).first()
        prev = prev[0] if prev else audit.GENESIS
        for r in rows:
            new = entry_hash(prev, r.at, r.actor, r.action, r.target, r.detail)
            c.execute(
                AuditEntry.__table__.update().where(AuditEntry.id == r.id).values(prev_hash=prev, hash=new, chain=2)
            )
            prev = new


def test_rewritten_and_recomputed_entry_is_caught(engine):
    """An owner edits an entry and recomputes the chain without the key: verify still finds it."""
    ids = []
    with session_scope(engine) as s:
        ids = list(s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
    _drop_triggers(engine)
    target = ids[3]
    with engine.begin() as c:
        c.execute(AuditEntry.__table__.update().where(AuditEntry.id == target).values(actor="somebody-else"))
    _rechain_plain(engine, target)
    check = verify(engine)
    assert not check.ok and check.first_bad_id == target


def test_verify_lists_every_break(engine):
    """Two separate edits are two breaks, each named."""
    with session_scope(engine) as s:
        ids = list(s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
    _drop_triggers(engine)
    with engine.begin() as c:
        for i in (ids[1], ids[6]):
            c.execute(AuditEntry.__table__.update().where(AuditEntry.id == i).values(action="edited"))
    check = verify(engine)
    assert [b.entry_id for b in check.breaks] == [ids[1], ids[6]]
    r = CliRunner().invoke(cli, ["--db", str(engine.url.render_as_string(hide_password=False)), "audit", "verify"])
    assert r.exit_code == 1
    assert f"entry {ids[1]}" in r.output and f"entry {ids[6]}" in r.output


def test_checkpoint_catches_a_shortened_tail(engine, tmp_path):
    """Deleting the newest entries verifies as a chain, but not against the auditor's checkpoint."""
    url = engine.url.render_as_string(hide_password=False)
    kept = tmp_path / "head.json"
    r = CliRunner().invoke(cli, ["--db", url, "audit", "checkpoint", "-o", str(kept)])
    assert r.exit_code == 0, r.output
    point = Checkpoint.from_json(kept.read_text())
    assert point.entries == len(USERS) and point.head_hash == checkpoint(engine).head_hash  # one per account made
    assert CliRunner().invoke(cli, ["--db", url, "audit", "verify", "--checkpoint", str(kept)]).exit_code == 0
    _drop_triggers(engine)
    with engine.begin() as c:
        c.execute(AuditEntry.__table__.delete().where(AuditEntry.id >= point.last_id - 1))
    assert verify(engine).ok  # a shortened chain is still a chain
    check = verify(engine, point)
    assert not check.ok and "missing" in check.reason
    r = CliRunner().invoke(cli, ["--db", url, "audit", "verify", "--checkpoint", str(kept)])
    assert r.exit_code == 1 and "missing" in r.output


def test_checkpoint_catches_a_rewritten_tail(engine):
    """A tail rewritten with the right key (say, by someone who stole it) still differs from the checkpoint."""
    point = checkpoint(engine)
    _drop_triggers(engine)
    key = audit.audit_key(engine)
    with engine.begin() as c:
        rows = c.execute(select(AuditEntry).order_by(AuditEntry.id)).all()
        prev = audit.GENESIS
        for r in rows:
            actor = "forged" if r.id == rows[-1].id else r.actor
            new = entry_hash(prev, r.at, actor, r.action, r.target, r.detail, key)
            c.execute(
                AuditEntry.__table__.update().where(AuditEntry.id == r.id).values(actor=actor, prev_hash=prev, hash=new)
            )
            prev = new
    assert verify(engine).ok
    check = verify(engine, point)
    assert not check.ok and "checkpoint" in check.reason


def test_key_lives_outside_the_database(engine, database_url):
    """The chain is keyed: entries hash with HMAC under a key kept in a file, not in any table."""
    with session_scope(engine) as s:
        row = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    key = audit.audit_key(engine)
    assert row.chain == audit.CHAIN_KEYED
    assert row.hash == entry_hash(row.prev_hash, row.at, row.actor, row.action, row.target, row.detail, key)
    assert row.hash != entry_hash(row.prev_hash, row.at, row.actor, row.action, row.target, row.detail)
    path = audit.key_path(engine.url)  # the module audit reads the key through
    assert path.exists() and bytes.fromhex(path.read_text().strip()) == key


def test_plain_entries_from_before_the_key_still_verify_but_not_after_keyed_ones(engine):
    """Entries written before the upgrade (chain 1) verify as plain SHA-256; a plain one after keyed ones is a break."""
    _drop_triggers(engine)
    with session_scope(engine) as s:
        ids = list(s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
    _rechain_plain(engine, ids[0])
    with engine.begin() as c:
        c.execute(AuditEntry.__table__.update().where(AuditEntry.id <= ids[4]).values(chain=1))
    # ids[5:] are now forged: plain hashes marked keyed
    check = verify(engine)
    assert check.plain_entries == 5 and check.first_bad_id == ids[5]
    with engine.begin() as c:
        c.execute(AuditEntry.__table__.update().values(chain=1))
    with session_scope(engine) as s:
        audit.record(s, "cli", "test.after-upgrade")
    assert verify(engine).ok
    with engine.begin() as c:
        c.execute(AuditEntry.__table__.update().where(AuditEntry.id == ids[2]).values(chain=1, action="x"))
    assert verify(engine).first_bad_id == ids[2]


def test_missing_key_is_reported_not_replaced(engine, monkeypatch):
    """Verifying where the key file is gone names the missing key and does not make a new one."""
    from smecluster.workflow import audit_key as key_module

    path = key_module.key_path(engine.url)
    monkeypatch.delenv(key_module.ENV_KEY, raising=False)
    path.rename(path.with_suffix(".moved"))
    key_module.forget_cached_keys()
    try:
        check = verify(engine)
        assert not check.ok and "audit key not found" in check.reason and not path.exists()
    finally:
        path.with_suffix(".moved").rename(path)
        key_module.forget_cached_keys()


def test_slots_freed_between_the_try_and_the_wait_let_the_login_in(engine, monkeypatch):
    """Every slot held by attempts in flight, then a correct login frees them just after this attempt tried
    for one: the attempt tries again and logs in, never answers "locked" (a race pytest-xdist showed)."""
    with session_scope(engine) as s:  # five attempts still being checked
        s.execute(update(Account).where(Account.username == "province").values(failed_logins=5))
    real = users_module._open_to_attempts

    def freed_meanwhile(session, username):
        with session_scope(engine) as other:  # a correct login lands between the slot and this check
            other.execute(update(Account).where(Account.username == username).values(failed_logins=0))
        return real(session, username)

    monkeypatch.setattr(users_module, "_open_to_attempts", freed_meanwhile)
    assert _attempt(engine, "province", PASSWORD) == "ok"
