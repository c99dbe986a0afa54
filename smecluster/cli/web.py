"""Web and account commands: `serve`, `user add|grant|disable|reset|demo`, `audit verify|checkpoint`."""

from __future__ import annotations

import typer

from smecluster.cli.common import STATE, console, fail, new_table, print_table

user_app = typer.Typer(
    help="Accounts from the command line (the only way to make administrators): add, grant, disable, reset.",
    no_args_is_help=True,
)
audit_app = typer.Typer(help="The audit trail (audit administrator's job).", no_args_is_help=True)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    insecure_cookies: bool = typer.Option(
        False, "--insecure-cookies", help="Drop the Secure cookie flag (plain HTTP on a non-loopback host)."
    ),
    workers: int = typer.Option(
        None, "--workers", help="Worker processes (default 1, or $SMECLUSTER_WEB_WORKERS).", min=1, max=64
    ),
    national_parquet: str = typer.Option(
        None, "--national-parquet", help="A Parquet registry (demo --national, export parquet) the ministry's "
        "province comparison counts from (default: the database; or $SMECLUSTER_NATIONAL_PARQUET)."
    ),
) -> None:
    """Serve the web application (cluster list at http://HOST:PORT/)."""
    import os

    import uvicorn

    from smecluster.web.app import create_app

    if insecure_cookies:
        os.environ["SMECLUSTER_COOKIE_SECURE"] = "0"
    if national_parquet:
        from smecluster.registry.parquet_layout import ParquetLayoutError, open_registry

        try:
            open_registry(national_parquet)  # refuse a folder that is not a Parquet registry now, not per page
        except ParquetLayoutError as exc:
            fail(str(exc))
        os.environ["SMECLUSTER_NATIONAL_PARQUET"] = str(national_parquet)
    from smecluster.config import database_url

    workers = workers or int(os.environ.get("SMECLUSTER_WEB_WORKERS", "1"))
    os.environ.setdefault("SMECLUSTER_WARM_UP", "1")  # verdicts and counts computed in the background
    console.print(f"serving on http://{host}:{port}/")
    if workers > 1:
        # several processes need an import string; the database URL travels in the environment
        os.environ["SMECLUSTER_DATABASE_URL"] = database_url(STATE.db)
        uvicorn.run(
            "smecluster.web.app:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="warning"
        )
        return
    uvicorn.run(create_app(STATE.db), host=host, port=port, log_level="warning")


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option(
        ...,
        "--role",
        help="province_admin, city_reviewer, county_applicant, "
        "enterprise_user, expert, system_admin, security_admin or audit_admin.",
    ),
    region: str = typer.Option(None, "--region", help="GB/T 2260 code of the account's region."),
    uscc: str = typer.Option(None, "--uscc", help="Enterprise credit code (enterprise_user)."),
    name: str = typer.Option("", "--name", help="Display name."),
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Add an account."""
    from smecluster.accounts.users import AccountError, add_user
    from smecluster.db import open_database, session_scope

    try:
        with session_scope(open_database(STATE.db)) as s:
            add_user(s, username, password, role, region_code=region, uscc=uscc, display_name=name)
    except AccountError as exc:
        fail(str(exc))
    console.print(f"added {username} ({role})")


@user_app.command("disable")
def user_disable(username: str = typer.Argument(...)) -> None:
    """Disable an account (its history stays)."""
    from smecluster.accounts.users import AccountError, disable_user
    from smecluster.db import open_database, session_scope

    try:
        with session_scope(open_database(STATE.db)) as s:
            disable_user(s, username)
    except AccountError as exc:
        fail(str(exc))
    console.print(f"disabled {username}")


@user_app.command("reset")
def user_reset(
    username: str = typer.Argument(...),
    password: str = typer.Option(
        None, "--password", help="Set this password instead; the owner must change it at the next login."
    ),
) -> None:
    """Reset an account (administrators too): print a one-time token the owner uses at /account/token."""
    from smecluster.accounts.users import AccountError, issue_token, reset_password
    from smecluster.db import open_database, session_scope

    try:
        with session_scope(open_database(STATE.db)) as s:
            if password:
                reset_password(s, username, password)
            else:
                token = issue_token(s, username, allow_admin=True)
    except AccountError as exc:
        fail(str(exc))
    if password:
        console.print(f"reset {username}; the password must be changed at the next login")
        return
    console.print(f"reset {username}; one-time token for the owner (valid 72 h, at /account/token):")
    console.print(f"token: {token}", soft_wrap=True, markup=False)


@user_app.command("grant")
def user_grant(
    username: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help="Role to hold (administrator roles only from here)."),
    region: str = typer.Option(None, "--region", help="GB/T 2260 code of the account's region."),
    uscc: str = typer.Option(None, "--uscc", help="Enterprise credit code (enterprise_user)."),
) -> None:
    """Give an account a role and its scope (its open sessions end)."""
    from smecluster.accounts.users import AccountError, grant_role
    from smecluster.db import open_database, session_scope

    try:
        with session_scope(open_database(STATE.db)) as s:
            grant_role(s, username, role, region_code=region, uscc=uscc, allow_admin=True)
    except AccountError as exc:
        fail(str(exc))
    console.print(f"{username} is now {role}")


@user_app.command("demo")
def user_demo() -> None:
    """Create one demo account per role (Changshu, Suzhou, the province, the ministry) and print their passwords once.

    The command line is where administrator accounts come from (三员分立).
    """
    from smecluster.accounts.demo import create_demo_accounts
    from smecluster.accounts.users import AccountError
    from smecluster.db import open_database, session_scope

    try:
        with session_scope(open_database(STATE.db)) as s:
            created = create_demo_accounts(s)
    except AccountError as exc:
        fail(f"{exc} (build the demo first: smecluster demo --no-serve)")
    if not created:
        console.print("the demo accounts exist already (smecluster user reset NAME gives a one-time token)")
        return
    table = new_table("user", "role", "password (shown once)", keep=("user", "role", "password (shown once)"))
    for row in created:
        table.add_row(*row)
    print_table(table)
    console.print(
        "administrators come only from the command line; on the web demo_sysadmin creates accounts "
        "without a role (one-time token for the owner, at /account/token) and demo_secadmin grants roles"
    )


@audit_app.command("verify")
def audit_verify(
    checkpoint_file: str = typer.Option(
        None, "--checkpoint", help="A file written by `audit checkpoint`: the tail must still match it."
    ),
) -> None:
    """Check the keyed hash chain of the audit trail and list every broken entry."""
    from pathlib import Path

    from smecluster.db import open_database
    from smecluster.workflow.audit import Checkpoint, verify

    point = None
    if checkpoint_file:
        try:
            point = Checkpoint.from_json(Path(checkpoint_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            fail(f"{checkpoint_file}: {exc}")
    result = verify(open_database(STATE.db), point)
    plain = f" ({result.plain_entries} from before the audit key, SHA-256 only)" if result.plain_entries else ""
    if result.ok:
        against = f"; matches checkpoint at entry {point.last_id}" if point and point.last_id else ""
        console.print(f"audit trail intact: {result.entries} entries{plain}{against}")
        return
    for b in result.breaks:
        console.print(f"broken at entry {b.entry_id}: {b.reason}", markup=False)
    fail(f"audit trail broken: {len(result.breaks)} break(s) in {result.entries} entries")


@audit_app.command("checkpoint")
def audit_checkpoint(
    output: str = typer.Option(None, "-o", "--output", help="File to write (default: print it)."),
) -> None:
    """Write the head hash and entry count for an auditor to keep (then `audit verify --checkpoint FILE`)."""
    from pathlib import Path

    from smecluster.db import open_database
    from smecluster.workflow.audit import checkpoint

    point = checkpoint(open_database(STATE.db))
    if output:
        Path(output).write_text(point.to_json() + "\n", encoding="utf-8")
        console.print(f"checkpoint written to {output}: {point.entries} entries, head {point.head_hash}")
        return
    print(point.to_json())


def bench_web(
    enterprises: int = typer.Option(4_000_000, "--enterprises", help="Registry size of the generated demo."),
    connections: int = typer.Option(32, "--connections", help="Concurrent keep-alive connections."),
    seconds: float = typer.Option(10.0, "--seconds", help="Load duration per URL."),
    workers: int = typer.Option(1, "--workers", help="Server worker processes."),
    db_file: str = typer.Option(None, "--db-file", help="SQLite file to build or reuse (default bench-web-N.db)."),
) -> None:
    """Load the provincial overview page and its API from a second process; print p95 and requests/s."""
    from pathlib import Path

    from smecluster.benchmarks.web import run

    targets = run(
        enterprises=enterprises,
        connections=connections,
        seconds=seconds,
        workers=workers,
        db_file=Path(db_file) if db_file else None,
        console=console,
    )
    headers = ("URL", "cold first ms", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms")
    table = new_table(
        *headers, keep=headers, title=f"{enterprises:,} enterprises, {connections} connections, {workers} worker(s)"
    )
    for t in targets:
        table.add_row(
            t.path,
            f"{t.first_ms:,.0f}",
            f"{t.requests:,}",
            str(t.errors),
            f"{t.rps:,.0f}",
            f"{t.percentile(0.5):.1f}",
            f"{t.percentile(0.95):.1f}",
            f"{t.percentile(0.99):.1f}",
        )
    print_table(table)


def register(app: typer.Typer) -> None:
    """Add serve, user and audit to the root app, and `bench web` to the bench sub-app."""
    from smecluster.cli.bench import bench_app

    bench_app.command("web")(bench_web)
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")
