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
