"""A CLI error names its file in one piece: Rich folds long lines at the terminal's width, and a path cut
in two can be neither read nor copied (seen with pytest-xdist's longer temporary folders)."""

from __future__ import annotations

import pytest

from smecluster.cli import common


def test_a_long_path_in_an_error_is_not_folded(capsys, monkeypatch):
    monkeypatch.setattr(common.err_console, "width", 60)
    path = "/tmp/pytest-of-root/pytest-106/popen-gw1/test_import_bad_file_names_the0/bad.yaml"
    with pytest.raises(SystemExit) as exit_:
        common.fail(f"{path}: edges[0]: unknown link 'zz'")
    assert exit_.value.code == 1
    assert f"{path}: edges[0]" in capsys.readouterr().err
