"""The command starts without its heavy libraries: they load only inside the commands that use them."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from smecluster.cli import geo as cli_geo
from smecluster.cli.main import app
from smecluster.geo.crs import CRS_NAMES
from smecluster.policy.listing import pack_headers
from smecluster.policy.pack import load_pack

# Not pydantic: Typer 0.29 itself imports it to convert the arguments of any command it runs.
HEAVY = (
    "polars", "duckdb", "sqlalchemy", "alembic", "pyproj", "shapely", "numpy", "pyarrow",
    "weasyprint", "matplotlib", "fastapi", "smecluster.models", "smecluster.db",
)


def _loaded_after(code: str) -> list[str]:
    """Heavy modules in sys.modules of a fresh interpreter after running `code`."""
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    modules = set(json.loads(out.stdout.strip().splitlines()[-1]))
    return [m for m in HEAVY if m in modules]


def test_importing_the_cli_loads_no_heavy_module():
    """`import smecluster.cli.main` (what every command pays) pulls in none of the heavy libraries."""
    assert _loaded_after("import smecluster.cli.main") == []


def test_help_and_policy_list_load_no_heavy_module():
    """`smecluster --help` and `smecluster policy list` run without the heavy libraries."""
    for argv in (["--help"], ["policy", "list"]):
        code = (
            "import sys\nfrom smecluster.cli.main import app\n"
            f"sys.argv = ['smecluster', *{argv!r}]\n"
            "try:\n    app()\nexcept SystemExit:\n    pass"
        )
        assert _loaded_after(code) == [], argv


def test_policy_list_shows_what_the_packs_say():
    """The header read for `policy list` is the loaded pack's: id, kind, version, dates, title."""
    headers = pack_headers()
    assert headers
    for h in headers:
        p = load_pack(h.id)
        assert (h.kind, h.version, h.effective_from, h.effective_to, h.title) == (
            p.kind, p.version, p.effective_from, p.effective_to, p.title
        ), h.id
    result = CliRunner().invoke(app, ["policy", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert all(h.id in result.output for h in headers)


def test_cli_crs_names_are_the_geo_package_names():
    """The CLI spells out the coordinate systems (no NumPy at start-up); they are the geo package's."""
    assert tuple(cli_geo.CRS_NAMES) == tuple(CRS_NAMES)


def test_import_help_names_every_kind():
    """`smecluster import --help` (and the CLI reference) name every import kind, enterprise_profiles too."""
    from smecluster.cli.registry import KIND_HELP
    from smecluster.registry.folder import kind_order

    listed = [k.strip() for k in KIND_HELP.replace(" or ", ", ").split(",")]
    assert listed == kind_order()  # the help lists them in the order to import them
    result = CliRunner().invoke(app, ["import", "--help"], env={"COLUMNS": "300"})
    assert "enterprise_profiles" in result.output and "folder" in result.output


def test_head_revision_read_without_alembic_is_alembics(tmp_path):
    """The head read from the migration files is Alembic's head; a fresh database is not at it,
    a migrated one is."""
    from alembic.script import ScriptDirectory

    from smecluster.db import _head_revisions, alembic_config, at_head, get_engine, open_database

    url = f"sqlite:///{tmp_path / 'h.db'}"
    engine = get_engine(url)
    assert _head_revisions() == set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    assert not at_head(engine)
    open_database(url)
    assert at_head(engine)
