"""Web and account commands: `serve`, `user add|disable|reset`, `audit verify`."""

from __future__ import annotations

import typer

from smecluster.cli.common import STATE, console, fail

user_app = typer.Typer(
    help="Accounts (system administrator's job): add, disable, reset.", no_args_is_help=True
)
audit_app = typer.Typer(help="The audit trail (audit administrator's job).", no_args_is_help=True)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    insecure_cookies: bool = typer.Option(
        False, "--insecure-cookies", help="Drop the Secure cookie flag (plain HTTP on a non-loopback host)."
    ),
) -> None:
    """Serve the web application (cluster list at http://HOST:PORT/)."""
    import os

    import uvicorn

    from smecluster.web.app import create_app

    if insecure_cookies:
        os.environ["SMECLUSTER_COOKIE_SECURE"] = "0"
    console.print(f"serving on http://{host}:{port}/")
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
        None, "--password", help="New password (default: generate one and print it)."
    ),
) -> None:
    """Reset a password and unlock the account; a generated password must be changed at next login."""
    from smecluster.accounts.users import AccountError, reset_password
    from smecluster.db import open_database, session_scope

    try:
        with session_scope(open_database(STATE.db)) as s:
            new = reset_password(s, username, password)
    except AccountError as exc:
        fail(str(exc))
    console.print(f"reset {username}" + ("" if password else f"; new password: {new}"))


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the audit trail and report the first tampered entry."""
    from smecluster.db import open_database
    from smecluster.workflow.audit import verify

    result = verify(open_database(STATE.db))
    if result.ok:
        console.print(f"audit trail intact: {result.entries} entries")
        return
    fail(f"audit trail broken at entry {result.first_bad_id}: {result.reason}")


def register(app: typer.Typer) -> None:
    """Add serve, user and audit to the root app."""
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")
