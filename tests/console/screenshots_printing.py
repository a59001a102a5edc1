"""Images of the printed forms (附件1–5) for docs/screenshots/ (print-附件N.png), as a county
clerk sees the paper: the first page of each PDF at 80 dpi (pdftoppm).

    PYTHONPATH=. .venv/bin/python -m tests.console.screenshots_printing [--out docs/screenshots]

A throwaway SQLite database seeded as the tests are (tests.support.seed), with four households
of one village taken through the procedures by the demo's story (real services, the signature
images every step needs): three identified on the same days (one review, one notice: one 附件4
sheet with three rows, their measures recorded), one of them then risk-eliminated.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm

from media.factory import store_from_url
from server import clock
from server.accounts.models import User
from server.auth import Principal
from server.config import PROJECT_ROOT
from server.db import make_engine
from server.demo_story import Cast, Story
from server.domain.printed import DOCUMENTS, PrintedForm
from server.forms.models import FormVersion
from server.migrate import upgrade
from server.printing import services
from tests.support.seed import VILLAGE, seed

FAMILIES = (("s-01", 4, "01", ["01"], 4300), ("s-02", 3, "02", ["02", "h"], 3900),
            ("s-03", 5, "02", ["07"], 5200))


def _story(url: str, media: Path) -> tuple[sa.orm.Session, object, Principal, Story, list]:
    upgrade(url)
    session = sa.orm.Session(make_engine(url))
    with session.begin():
        seed(session, PROJECT_ROOT / "xlsforms")
    store = store_from_url(str(media))

    def principal(name: str) -> Principal:
        return Principal.of(session.scalar(sa.select(User).where(User.username == name)))

    cast = Cast(helper=[principal("helper")], village=[principal("village")],
                township=[principal("township")], county=principal("county"))
    story = Story(session, store, cast, [f"{VILLAGE}001"])
    for form_id in ("household", "measures", "elimination", "declaration"):
        story.versions[form_id] = session.scalar(
            sa.select(FormVersion.version).where(FormVersion.form_id == form_id)
            .order_by(FormVersion.id.desc()).limit(1))
    families = []
    for key, size, kind, risks, income in FAMILIES:
        family = story.family(key, 0, size, kind, risks, income)
        story.survey(family, 70)
        story.measures(family, 62)
        families.append(family)
    cases = [story.identification(family, done_days_ago=40).id for family in families]
    eliminated = story.elimination(families[0], done_days_ago=3).id
    session.commit()
    return session, store, cast.county, story, [cases[0], eliminated, families[0]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fangpin-print-shots-") as folder:
        base = Path(folder)
        session, store, county, _, (case, eliminated, family) = _story(
            f"sqlite:///{base / 'shots.sqlite3'}", base / "media")
        today = clock.today()
        printed = {
            PrintedForm.APPLICATION: services.print_household(
                session, store, county, family.household_id, PrintedForm.APPLICATION),
            PrintedForm.SURVEY: services.print_household(
                session, store, county, family.household_id, PrintedForm.SURVEY),
            PrintedForm.APPROVAL: services.print_case(session, store, county, case,
                                                      PrintedForm.APPROVAL),
            PrintedForm.MEASURES: services.print_area(
                session, store, county, VILLAGE, PrintedForm.MEASURES, False,
                today - timedelta(days=60), today - timedelta(days=30)),
            PrintedForm.ELIMINATION: services.print_case(session, store, county, eliminated,
                                                         PrintedForm.ELIMINATION),
        }
        blank = services.print_blank(session, county, PrintedForm.SURVEY, f"{VILLAGE}001")
        session.rollback()
        args.out.mkdir(parents=True, exist_ok=True)
        shots = [(f"print-{DOCUMENTS[form]}", result) for form, result in printed.items()]
        shots.append(("print-附件2-空白表", blank))
        for name, result in shots:
            pdf = base / f"{name}.pdf"
            pdf.write_bytes(result.content)
            subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1",
                            "-singlefile", str(pdf), str(args.out / name)], check=True)
            print(args.out / f"{name}.png", f"({result.pdf.pages} pages)")


if __name__ == "__main__":
    main()
