"""Policy packs load, and a bad pack is refused with the file and the reason."""

from pathlib import Path

import pytest
import yaml

from smecluster.policy.pack import PackError, load_pack, load_pack_file, pack_files

JIANGSU = Path(__file__).resolve().parents[1] / "smecluster" / "policy" / "packs" / "jiangsu-cluster-2023.yaml"


def _variant(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(JIANGSU.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "pack.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("path", pack_files(), ids=lambda p: p.stem)
def test_shipped_packs_load(path):
    """Every shipped pack passes its checks."""
    assert load_pack_file(path).id == path.stem


def test_unknown_indicator_is_named(tmp_path):
    """A misspelt indicator fails with the criterion and the name."""
    path = _variant(tmp_path, lambda r: r["criteria"][5].update(indicator="cloud_shar"))
    with pytest.raises(PackError, match=r"pack\.yaml: criterion J6: unknown indicator 'cloud_shar'"):
        load_pack_file(path)


def test_text_threshold_is_refused(tmp_path):
    """A threshold given as text is a bad threshold type."""
    path = _variant(tmp_path, lambda r: r["criteria"][4].update(threshold="five"))
    with pytest.raises(PackError, match="threshold"):
        load_pack_file(path)


def test_duplicate_id_is_refused(tmp_path):
    """Two criteria with one id are refused."""
    path = _variant(tmp_path, lambda r: r["criteria"][1].update(id="J1"))
    with pytest.raises(PackError, match="duplicate criterion id 'J1'"):
        load_pack_file(path)


def test_boundary_word_must_match_comparator(tmp_path):
    """不低于 with '>' contradicts the Civil Code's reading and is refused."""
    path = _variant(tmp_path, lambda r: r["criteria"][6].update(comparator=">"))
    with pytest.raises(PackError, match="不低于 means >="):
        load_pack_file(path)


def test_misspelt_key_is_refused(tmp_path):
    """An unknown key (a typo such as 'treshold') is refused, not ignored."""
    path = _variant(tmp_path, lambda r: r["criteria"][4].update(treshold=5))
    with pytest.raises(PackError, match="treshold"):
        load_pack_file(path)


def test_broken_yaml_is_refused(tmp_path):
    """A file that is not YAML names the file."""
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(PackError, match="broken.yaml: not valid YAML"):
        load_pack_file(path)


def test_unassessed_condition_is_kept():
    """The unknown "and so on" condition stays in the pack as not assessed."""
    j8 = load_pack("jiangsu-cluster-2023").criterion("J8")
    assert (j8.assessed, j8.indicator) == (False, None)


def test_unverified_figures_are_marked():
    """The pillar-industry share, an UNVERIFIED parameter, carries the mark."""
    assert load_pack("jiangsu-cluster-2023").criterion("J3a").verified is False
