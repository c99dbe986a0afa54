"""Evidence files: type recognised from content (not the name), size capped, stored under generated names.

No part of a user's file name ever reaches the file system: the stored name is a random hex string
plus the extension of the detected type, inside the configured evidence directory. The name shown
and offered on download keeps the user's stem but always ends in the detected type's extension, so
a PDF uploaded as `申报证明.bat` downloads as `申报证明.pdf`. New files are taken only while the
application is in one of the applicant's stages (the workflow pack's `evidence` stages); later ones
come only as the attachment of a recorded action.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from smecluster.messages import N_
from smecluster.workflow import audit
from smecluster.workflow.applications import NotPermitted, WorkflowError, get_visible
from smecluster.workflow.definition import load_workflow
from smecluster.workflow.models import Evidence

UPLOAD_ROLES = ("county_applicant", "city_reviewer", "province_admin")


def detect_type(data: bytes) -> tuple[str, str] | None:
    """(media type, extension) from the first bytes, or None for a type we do not accept."""
    if data.startswith(b"%PDF-"):
        return "application/pdf", "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
        if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"
    return None


def display_name(name: str | None) -> str:
    """A file name for display only: last path part, control characters removed, at most 120 characters."""
    base = (name or "file").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip() or "file"
    return cleaned[:120]


def typed_name(name: str | None, ext: str) -> str:
    """The display name with its extension replaced by the detected type's (`a.bat` -> `a.pdf`)."""
    shown = display_name(name)
    stem = shown.rsplit(".", 1)[0].strip(" .") if "." in shown else shown
    return f"{(stem or 'file')[:110]}.{ext}"


def download_name(evidence: Evidence) -> str:
    """The name a stored file is offered under: its stem, the extension of its stored (detected) type."""
    return typed_name(evidence.original_name, Path(evidence.stored_name).suffix.lstrip(".") or "bin")


def store_evidence(
    session: Session,
    who: Any,
    application_id: int,
    filename: str | None,
    data: bytes,
    *,
    directory: Path,
    max_bytes: int,
    transition_id: int | None = None,
) -> Evidence:
    """Check and store one uploaded file for an application the account may see."""
    application = get_visible(session, who, application_id)
    if who.role not in UPLOAD_ROLES:
        raise NotPermitted(N_("your role may not attach evidence"))
    if transition_id is None and not load_workflow(application.workflow).takes_evidence(application.stage):
        raise WorkflowError(
            N_("evidence can no longer be added: the application has left the applicant's stage (%(stage)s)"),
            stage=application.stage,
        )
    if not data:
        raise WorkflowError(N_("the file is empty"))
    if len(data) > max_bytes:
        raise WorkflowError(N_("the file is larger than %(max_bytes)s MB"), max_bytes=max_bytes // (1024 * 1024))
    kind = detect_type(data)
    if kind is None:
        raise WorkflowError(N_("accepted files: PDF, PNG, JPEG, XLSX, DOCX (checked by content)"))
    media_type, ext = kind
    stored = f"{uuid.uuid4().hex}.{ext}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / stored).write_bytes(data)
    evidence = Evidence(
        application_id=application_id,
        transition_id=transition_id,
        original_name=typed_name(filename, ext),
        stored_name=stored,
        media_type=media_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=who.id,
        at=audit.utcnow(),
    )
    session.add(evidence)
    session.flush()
    audit.record(
        session,
        who.username,
        "evidence.upload",
        f"application:{application_id}",
        {"evidence": evidence.id, "sha256": evidence.sha256, "size": len(data)},
    )
    return evidence


def evidence_path(directory: Path, evidence: Evidence) -> Path:
    """Where a stored file is (its generated name only)."""
    return directory / Path(evidence.stored_name).name
