"""A kept table sorted by a key is read by key from its Arrow IPC copy: the same rows as its Parquet
file gives, for keys at batch boundaries, keys running over several batches and keys not held."""

from __future__ import annotations

import pyarrow as pa

from smecluster.analytics.snapshot_files import StoredSnapshot


def test_keyed_ipc_copy_answers_as_the_parquet_file(tmp_path):
    keys = sorted([f"K{i:04d}" for i in range(0, 200, 2)] + ["K0050"] * 9 + ["K0100"] * 3)
    table = pa.table({"uscc": keys, "n": list(range(len(keys)))})
    snapshot = StoredSnapshot(tmp_path, "r", 1)
    snapshot.cached("kept", lambda: table, row_group_size=8, lookup_key="uscc")
    assert (tmp_path / "kept.arrow").exists()
    for key in [*sorted(set(keys)), "A", "K0001", "K0199", "Z"]:
        from_ipc = snapshot.lookup("kept", "uscc", key)
        (tmp_path / "kept.arrow").rename(tmp_path / "aside.arrow")  # the Parquet path alone
        from_parquet = snapshot.lookup("kept", "uscc", key)
        (tmp_path / "aside.arrow").rename(tmp_path / "kept.arrow")
        assert from_ipc.equals(from_parquet), key
        assert from_ipc.column("uscc").to_pylist() == [k for k in keys if k == key]


def test_kept_rows_by_equality_with_and_without_row_group_statistics(tmp_path):
    """An equality filter reads only the row groups whose statistics may hold the value, a group starting at
    the value included; a file written without statistics is read whole, with the same rows."""
    import pyarrow.parquet as pq

    table = pa.table({"uscc": ["A", "B", "B", "C"], "n": [1, 2, 3, 4]})  # row groups [A, B] and [B, C]
    pq.write_table(table, tmp_path / "with.parquet", row_group_size=2)
    pq.write_table(table, tmp_path / "without.parquet", row_group_size=2, write_statistics=False)
    snapshot = StoredSnapshot(tmp_path, "r", 1)
    for name in ("with", "without"):
        assert snapshot.kept(name, [("uscc", "=", "B")]).column("n").to_pylist() == [2, 3], name
        assert snapshot.kept(name, [("uscc", "=", "C")]).column("n").to_pylist() == [4], name
        assert snapshot.kept(name, [("uscc", "=", "Z")]).num_rows == 0, name


def test_the_keyed_ipc_copy_answers_alone(tmp_path):
    """The IPC copy's batch index is whole (one first key per batch): with the Parquet file gone, a lookup
    still finds every row of a key, also one running over a batch boundary."""
    keys = sorted([f"K{i:03d}" for i in range(20)] + ["K005"] * 10)
    snapshot = StoredSnapshot(tmp_path, "r", 1)
    snapshot.cached("kept", lambda: pa.table({"uscc": keys}), row_group_size=4, lookup_key="uscc")
    (tmp_path / "kept.parquet").unlink()
    assert snapshot.lookup("kept", "uscc", "K005").num_rows == 11
    assert snapshot.lookup("kept", "uscc", "K019").column("uscc").to_pylist() == ["K019"]
