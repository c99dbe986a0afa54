"""Priority packs: the shipped pack loads; a broken pack is refused naming the file and the item."""

from __future__ import annotations

import numpy as np
import pytest

from smecluster import yamlio
from smecluster.policy.pack import PackError
from smecluster.policy.priority import PRIORITY_DIR, load_priority_file, load_priority_pack, priority_pack_ids

DIMENSIONS = ["主导产业优势突出", "创新活力充沛", "数字化转型成效明显", "绿色化升级成果显著", "开放合作机制健全"]


def _raw() -> dict:
    return yamlio.safe_load((PRIORITY_DIR / "jiangsu-priority-2023.yaml").read_text(encoding="utf-8"))


def _write(tmp_path, raw) -> str:
    import yaml

    path = tmp_path / "pack.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_shipped_pack_has_the_five_dimensions_each_indicator_with_its_reason():
    """The five dimensions of POLICY.md section 7, every indicator with direction, normalisation and reason."""
    assert "jiangsu-priority-2023" in priority_pack_ids()
    pack = load_priority_pack("jiangsu-priority-2023")
    assert [d.title_zh for d in pack.dimensions] == DIMENSIONS
    for _, ind in pack.indicators():
        assert ind.direction in ("benefit", "cost") and ind.normalisation and len(ind.reason) >= 4
    costs = {ind.indicator for _, ind in pack.indicators() if ind.direction == "cost"}
    assert costs == {"energy_intensity", "energy_intensity_trend"}
    w = pack.expert_weights()
    assert abs(w.sum() - 1) < 1e-12 and (w > 0).all()
    assert pack.recommendation.quota_for(2022) == 5 and pack.recommendation.quota_for(2024) == 8
    assert pack.recommendation.quota_for(2023) == 5 and pack.recommendation.quota_for(2021) == 0


def test_inconsistent_ahp_matrix_is_refused_with_its_consistency_ratio(tmp_path):
    """A pairwise matrix with CR >= 0.1 is refused: the file, weights.ahp and the CR are named."""
    raw = _raw()
    raw["weights"]["ahp"] = [[1, 9, 9, 1 / 9, 1], [1 / 9, 1, 9, 9, 1], [1 / 9, 1 / 9, 1, 9, 1],
                             [9, 1 / 9, 1 / 9, 1, 1], [1, 1, 1, 1, 1]]
    path = _write(tmp_path, raw)
    with pytest.raises(PackError, match=r"pack\.yaml: weights\.ahp: .*consistency ratio CR = \d\.\d{3}"):
        load_priority_file(path)


def test_ahp_fraction_text_and_reciprocity(tmp_path):
    """'1/3' is read as a fraction; a matrix that is not reciprocal is refused naming the pair."""
    raw = _raw()
    raw["weights"]["ahp"][0][1] = 3
    with pytest.raises(PackError, match=r"not reciprocal: a\[leading\]\[innovation\] = 3"):
        load_priority_file(_write(tmp_path, raw))


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r["dimensions"][0]["indicators"][0].update(share=0.9), "indicator shares add up to 1.6"),
    (lambda r: r["dimensions"][1]["indicators"][0].update(indicator="no_such"), "unknown cluster indicator"),
    (lambda r: r["dimensions"][1]["indicators"][0].update(indicator="revenue"), "unknown cluster indicator"),
    (lambda r: r["dimensions"][2]["indicators"][0].update(direction="up"), "direction"),
    (lambda r: r["dimensions"][2]["indicators"][0].pop("reason"), "reason"),
    (lambda r: r["weights"]["ahp"].pop(), "weights.ahp has 4 rows for 5 dimensions"),
])
def test_broken_pack_is_refused_naming_the_item(tmp_path, change, message):
    """Each mistake is refused with the file and what is wrong."""
    raw = _raw()
    change(raw)
    with pytest.raises(PackError, match=message) as exc:
        load_priority_file(_write(tmp_path, raw))
    assert "pack.yaml" in str(exc.value)


def test_expert_weights_are_dimension_weight_times_share():
    """An indicator's expert weight is its dimension's AHP weight times its share in the dimension."""
    pack = load_priority_pack()
    from smecluster.analytics.priority import ahp

    dims = ahp(pack.weights.ahp).weights
    expected = np.array([dims[d] * ind.share for d, ind in pack.indicators()])
    assert np.allclose(pack.expert_weights(), expected)
    assert dims.argmax() == 0  # leading industry judged most important
