"""The shipped packs' checked parses are kept between processes, and an edited pack is never read from
an older parse (decision 1981)."""

from __future__ import annotations

import shutil

import pytest

from smecluster.policy import pack as packs


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A copy of the shipped packs standing in for them, and an empty cache directory."""
    copy = tmp_path / "packs"
    shutil.copytree(packs.PACK_DIR, copy)
    monkeypatch.setattr(packs, "PACK_DIR", copy)
    monkeypatch.setenv("SMECLUSTER_CACHE_DIR", str(tmp_path / "cache"))
    packs._kept_parses.cache_clear()
    yield copy
    packs._kept_parses.cache_clear()


def _a_pack(directory):
    return next(p for p in sorted(directory.glob("*.yaml")) if "extends:" not in p.read_text(encoding="utf-8"))


def test_a_kept_parse_is_read_instead_of_the_yaml(shipped, monkeypatch):
    """Loaded once (parsed, checked and kept), a pack loads again from its parse, equal to it."""
    path = _a_pack(shipped)
    first = packs.load_pack_file(path)
    assert list((shipped.parent / "cache" / "packs").glob("*.pickle"))
    packs._kept_parses.cache_clear()  # as in a new process
    monkeypatch.setattr(packs, "_read_pack_file", lambda p: pytest.fail(f"{p} parsed again"))
    again = packs.load_pack_file(path)
    assert again == first and again is not first


def test_an_edited_pack_is_parsed_anew(shipped):
    """Changing a pack file's bytes changes the key: the old parse is not read."""
    path = _a_pack(shipped)
    before = packs.load_pack_file(path)
    text = path.read_text(encoding="utf-8")
    title = f"title: {before.title}"
    assert title in text or f'title: "{before.title}"' in text
    path.write_text(text.replace(f"title: {before.title}", "title: 改过的标题", 1)
                    .replace(f'title: "{before.title}"', "title: 改过的标题", 1), encoding="utf-8")
    packs._kept_parses.cache_clear()
    assert packs.load_pack_file(path).title == "改过的标题"


def test_a_users_pack_file_is_not_kept(tmp_path, monkeypatch):
    """Pack files outside the shipped directory (reforms, a user's file) are parsed each time."""
    monkeypatch.setenv("SMECLUSTER_CACHE_DIR", str(tmp_path / "cache"))
    own = tmp_path / "mine"
    own.mkdir()
    path = own / "mine.yaml"
    shutil.copy(_a_pack(packs.PACK_DIR), path)
    packs.load_pack_file(path)
    assert not (tmp_path / "cache").exists()
