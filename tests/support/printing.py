"""Helpers of the printed forms' tests: a household run through both procedures with the demo's
story (real services: ODK submissions, approvals with the signatures each step needs), and the
poppler tools that read a PDF back (pdftotext, pdfinfo, pdfimages)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from media.store import MediaStore
from server import clock
from server.demo_story import Cast, Family, Story
from server.domain.pipeline import Step
from server.forms.models import FormVersion
from server.pipeline.models import Case
from tests.integration.conftest import user
from tests.support.seed import VILLAGE

GROUP = f"{VILLAGE}001"  # 第一村民小组 of the seeded village


@dataclass
class Printable:
    """What the tests print: ``done`` identified (35 days ago) and risk eliminated (3 days
    ago), ``noticed`` at the township's review, its public notice (8 days) ended today."""

    story: Story
    done: Family
    noticed: Family
    identification: int  # done's identification case
    elimination: int  # done's elimination case
    notice_case: int  # noticed's case

    def day(self, days_ago: int) -> date:
        return clock.today() - timedelta(days=days_ago)


def printable(db: Session, store: MediaStore) -> Printable:
    """Two households of the seeded village taken through the procedures (committed)."""
    cast = Cast(helper=[user(db, "helper")], village=[user(db, "village")],
                township=[user(db, "township")], county=user(db, "county"))
    story = Story(db, store, cast, [GROUP])
    for form_id in ("household", "measures", "elimination", "declaration"):
        story.versions[form_id] = db.scalar(
            select(FormVersion.version).where(FormVersion.form_id == form_id)
            .order_by(FormVersion.id.desc()).limit(1))
    done = story.family("p-01", 0, 3, "02", ["01", "h"], 4000)
    story.survey(done, 60)
    identification = story.identification(done, done_days_ago=35).id
    story.measures(done, 30)
    elimination = story.elimination(done, done_days_ago=3).id
    noticed = story.family("p-02", 0, 2, "02", ["07"], 5000)
    story.survey(noticed, 20)
    notice_case = story.identification(noticed, stop=Step.TOWNSHIP_REVIEW,
                                       entered_days_ago=0).id
    db.commit()
    assert db.get(Case, elimination).status == "done"
    return Printable(story, done, noticed, identification, elimination, notice_case)


def _run(*args: str, data: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "form.pdf"
        path.write_bytes(data)
        out = ["-"] if args[0] == "pdftotext" else []
        return subprocess.run([*args, str(path), *out],
                              capture_output=True, text=True, check=True, timeout=60).stdout


def pdf_text(data: bytes) -> str:
    """The text of a PDF in the order it is drawn (pdftotext -raw), blanks squeezed out: what
    a reader finds on the page, line by line."""
    return re.sub(r"\s+", "", _run("pdftotext", "-raw", data=data))


def page_count(data: bytes) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", data=data), re.M)[1])


def images_per_page(data: bytes) -> dict[int, int]:
    """How many images each page shows (pdfimages -list)."""
    counts: dict[int, int] = {}
    for line in _run("pdfimages", "-list", data=data).splitlines()[2:]:
        parts = line.split()
        if len(parts) > 2 and parts[2] == "image":
            counts[int(parts[0])] = counts.get(int(parts[0]), 0) + 1
    return counts
