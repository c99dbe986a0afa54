"""The `smecluster` command: a thin layer over smecluster.service and the domain packages.

Each area keeps its commands in its own module (cli/<area>.py) and registers them here.
"""

from __future__ import annotations

import typer

from smecluster.cli import common

app = typer.Typer(
    name="smecluster",
    help="SME characteristic industrial clusters (中小企业特色产业集群): registry, policy, verdicts.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root(
    db: str = typer.Option(
        None, "--db", help="Database URL or SQLite file (default: $SMECLUSTER_DATABASE_URL or ./smecluster.db)."
    ),
    lang: str = typer.Option(
        None, "--lang", help="zh or en: words in printed tables (default: $SMECLUSTER_LANG, else the locale, "
        "else zh). JSON keeps the codes, with the reasons of `evaluate enterprises` in words beside them."
    ),
) -> None:
    from smecluster.labels import resolve_lang

    common.STATE.db = db
    try:
        common.STATE.lang = resolve_lang(lang)
    except ValueError as exc:
        common.fail(str(exc))


def _register() -> None:
    # Each area's module adds its commands or sub-apps to `app`.
    from smecluster.cli import bench, chains, core, dossiers, geo, priority, quality, registry, tiers, web, whatif

    for module in (core, registry, bench, geo, web, tiers, whatif, priority, quality, dossiers, chains):
        module.register(app)


_register()

if __name__ == "__main__":
    app()
