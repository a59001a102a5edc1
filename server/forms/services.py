"""Form versions in the database: build every XLSForm (``server.forms.build``) and publish what
changed. The seed, the CLI and the tests publish through here; the OpenRosa edge (``sync``) only
serves what is published."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit.services import record
from server.forms.build import BuiltForm, build_xform
from server.forms.models import Form, FormVersion


@dataclass(frozen=True)
class Published:
    form_id: str
    version: str
    new: bool  # False when this exact version was already published


def publish(session: Session, built: BuiltForm, user_id: int | None = None) -> Published:
    """Make ``built`` the current version of its form; earlier versions stay usable."""
    form = session.get(Form, built.form_id)
    if form is None:
        form = Form(id=built.form_id, title=built.title)
        session.add(form)
        session.flush()
    form.title = built.title
    version = session.scalar(
        select(FormVersion).where(
            FormVersion.form_id == built.form_id, FormVersion.version == built.version
        )
    )
    new = version is None
    if new:
        version = FormVersion(
            form_id=built.form_id,
            version=built.version,
            xml=built.xml,
            md5=built.md5,
            media=list(built.media),
            binary_fields=[{"path": f.path, "mediatype": f.mediatype} for f in built.binary_fields],
        )
        session.add(version)
        session.flush()
        record(session, "form.published", "form", built.form_id, user_id, version=built.version)
    form.current_version = version
    session.flush()
    return Published(built.form_id, built.version, new)


def publish_directory(session: Session, directory: Path, user_id: int | None = None):
    """Build and publish every ``*.xlsx`` in ``directory`` (sorted by name)."""
    return [
        publish(session, build_xform(path), user_id)
        for path in sorted(Path(directory).glob("*.xlsx"))
        if not path.name.startswith("~$")  # Excel's lock files
    ]
