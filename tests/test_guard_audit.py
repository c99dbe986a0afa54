"""The audit chain's exact form, against values computed here from the canonical JSON written out by hand:
a verifier of another make (or an auditor with `sha256sum`) must get the same hashes; and the checkpoint's
JSON and the verifier's reasons."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

import pytest
from sqlalchemy import select
from web_fakes import make_users, seed

from smecluster.db import open_database, session_scope
from smecluster.workflow import audit
from smecluster.workflow.audit import GENESIS, Checkpoint, checkpoint, entry_hash, verify
from smecluster.workflow.models import AuditEntry

AT = datetime(2026, 1, 2, 3, 4, 5, 6)
# The canonical body: [prev, at (microseconds), actor, action, target, detail], keys sorted, no spaces, UTF-8.
BODY = ('["' + "0" * 64 + '","2026-01-02T03:04:05.000006","张三","login.fail","account:zhang",'
        '{"locked":false,"reason":"bad password","when":"2026-01-02"}]')


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: the chain's form is Python; test_web_audit runs it on PostgreSQL too."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def engine(database_url):
    """A database with regions and one account per role."""
    eng = open_database(database_url)
    seed(eng)
    make_users(eng)
    return eng


def test_plain_entry_hash_is_sha256_of_the_canonical_body():
    """Chain 1 (before the key): SHA-256 of the body; a date in the detail is written as its ISO text."""
    detail = {"when": datetime(2026, 1, 2).date(), "reason": "bad password", "locked": False}
    assert entry_hash(GENESIS, AT, "张三", "login.fail", "account:zhang", detail) == \
        hashlib.sha256(BODY.encode("utf-8")).hexdigest()


def test_keyed_entry_hash_is_hmac_sha256_under_the_key():
    """Chain 2: HMAC-SHA-256 of the same body under the instance's key."""
    detail = {"reason": "bad password", "when": "2026-01-02", "locked": False}
    key = b"k" * 32
    assert entry_hash(GENESIS, AT, "张三", "login.fail", "account:zhang", detail, key) == \
        hmac.new(key, BODY.encode("utf-8"), hashlib.sha256).hexdigest()


def test_record_links_each_entry_to_the_one_before(engine):
    """The first entry follows 64 zeros; each later one names the previous hash; every hash is keyed."""
    with session_scope(engine) as s:
        audit.record(s, "tester", "test.one", "thing:1", {"n": 1})
        audit.record(s, "tester", "test.two")
    key = audit.audit_key(engine)
    with session_scope(engine) as s:
        rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert rows[0].prev_hash == GENESIS
    for before, row in zip(rows, rows[1:], strict=False):
        assert row.prev_hash == before.hash
    last = rows[-1]
    assert (last.actor, last.action, last.target, last.detail, last.chain) == ("tester", "test.two", "", {}, 2)
    assert last.hash == entry_hash(last.prev_hash, last.at, "tester", "test.two", "", {}, key)
    one = rows[-2]
    assert (one.target, one.detail) == ("thing:1", {"n": 1})


def test_verify_counts_and_reasons(engine):
    """An intact chain: every entry counted, no break; an edited detail: that entry, with the reason."""
    with session_scope(engine) as s:
        n = len(list(s.scalars(select(AuditEntry.id))))
    check = verify(engine)
    assert (check.ok, check.entries, check.plain_entries, check.first_bad_id, check.reason) == (True, n, 0, None, "")
    point = checkpoint(engine)
    assert point.entries == n and point.head_hash != GENESIS
    raw = json.loads(point.to_json())
    assert raw == {"entries": n, "last_id": point.last_id, "head_hash": point.head_hash, "at": point.at}
    assert Checkpoint.from_json(point.to_json()) == point
    assert verify(engine, point).ok


@pytest.mark.parametrize("raw", ["not json", "{}", '{"entries": "many", "last_id": 1, "head_hash": "x"}', "[]"])
def test_a_checkpoint_file_that_is_not_one_is_refused(raw):
    """A damaged checkpoint file is a clear error, not a crash."""
    with pytest.raises(ValueError, match="not an audit checkpoint"):
        Checkpoint.from_json(raw)


def test_checkpoint_of_an_empty_chain(tmp_path):
    """No entries: the head is the 64 zeros and no entry id; verifying against it passes."""
    eng = open_database(f"sqlite:///{tmp_path / 'empty.db'}")
    point = checkpoint(eng)
    assert (point.entries, point.last_id, point.head_hash) == (0, None, GENESIS)
    assert verify(eng, point).ok and verify(eng).entries == 0


def test_an_unkeyed_entry_after_keyed_ones_is_named():
    """A plain SHA-256 entry appended after keyed ones (a rewrite without the key) is a break with its reason."""
    import tempfile

    eng = open_database(f"sqlite:///{tempfile.mkdtemp()}/plain.db")
    with session_scope(eng) as s:
        audit.record(s, "tester", "test.keyed")
    with session_scope(eng) as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        at = audit.utcnow()
        s.add(AuditEntry(at=at, actor="forger", action="test.plain", target="", detail={}, prev_hash=last.hash,
                         hash=entry_hash(last.hash, at, "forger", "test.plain", "", {}), chain=1))
    check = verify(eng)
    assert [b.reason for b in check.breaks] == ["unkeyed entry after keyed entries (chain rewritten)"]


@pytest.mark.parametrize(("text", "reason"), [
    ("abcd", "the audit key must have at least 16 bytes (32 hex digits)"),
    ("xyz", "the audit key must be hexadecimal"),
])
def test_a_bad_audit_key_in_the_environment_is_refused_naming_it(engine, monkeypatch, text, reason):
    """A key given in SMECLUSTER_AUDIT_KEY that is short or not hexadecimal is refused, the variable named."""
    from smecluster.workflow.audit_key import ENV_KEY, AuditKeyError

    monkeypatch.setenv(ENV_KEY, text)
    with pytest.raises(AuditKeyError) as refused:
        audit.audit_key(engine)
    assert str(refused.value) == f"{ENV_KEY}: {reason}"


def test_the_audit_key_lies_beside_a_sqlite_file_and_under_the_data_home_for_a_server(tmp_path, monkeypatch):
    """With no key file named: a SQLite file's key is `<file>.audit-key` beside it; a server database's (and an
    in-memory SQLite's) is under $XDG_DATA_HOME/smecluster/audit-keys, named by host, port, database and a
    digest of the URL without its password, so two databases never share a key."""
    from sqlalchemy import make_url

    from smecluster.workflow.audit_key import ENV_KEY_FILE, key_path

    monkeypatch.delenv(ENV_KEY_FILE, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    db = tmp_path / "registry.db"
    assert key_path(make_url(f"sqlite:///{db}")) == tmp_path / "registry.db.audit-key"
    keys = tmp_path / "data" / "smecluster" / "audit-keys"
    plain = "postgresql+psycopg://app@db.example:6543/smecluster"
    digest = hashlib.sha256(plain.encode()).hexdigest()[:16]
    assert key_path(make_url(plain)) == keys / f"db.example-6543-smecluster-{digest}.key"
    with_password = make_url("postgresql+psycopg://app:secret@db.example:6543/smecluster")
    assert key_path(with_password) == keys / f"db.example-6543-smecluster-{digest}.key"  # the password is no part
    bare = "postgresql+psycopg:///smecluster"
    assert key_path(make_url(bare)) == keys / f"local-smecluster-{hashlib.sha256(bare.encode()).hexdigest()[:16]}.key"
    memory = "sqlite://"
    assert key_path(make_url(memory)) == keys / f"local-{hashlib.sha256(memory.encode()).hexdigest()[:16]}.key"
    monkeypatch.setenv(ENV_KEY_FILE, str(tmp_path / "named.key"))
    assert key_path(make_url(plain)) == tmp_path / "named.key"


def test_a_key_named_with_the_password_by_an_earlier_release_is_still_found(tmp_path, monkeypatch):
    """Releases before 2026-12 put the password into the key file's digest: where only such a file exists it is
    the key (the chain it signed still verifies); otherwise the name leaves the password out."""
    from sqlalchemy import make_url

    from smecluster.workflow.audit_key import ENV_KEY_FILE, key_path

    monkeypatch.delenv(ENV_KEY_FILE, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    url = "postgresql+psycopg://app:secret@db.example:6543/smecluster"
    keys = tmp_path / "smecluster" / "audit-keys"
    def named(rendered: str):
        return keys / f"db.example-6543-smecluster-{hashlib.sha256(rendered.encode()).hexdigest()[:16]}.key"

    new, old = named(url.replace(":secret", "")), named(url)
    assert key_path(make_url(url)) == new
    old.parent.mkdir(parents=True)
    old.write_text("ab" * 32)
    assert key_path(make_url(url)) == old
    new.write_text("cd" * 32)
    assert key_path(make_url(url)) == new  # once both exist, the new name wins
