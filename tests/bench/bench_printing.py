"""Benchmark of the printed forms (issue 14): one 附件3 in under 0.5 s; a village of 200
households (their 附件3, two copies each, as one PDF) in under 60 s.

Run from the project root (``make bench-printing``):

    .venv/bin/python -m tests.bench.bench_printing [--quick] [--households N] [--n N]
        [--postgres]

What it does:

1. a throwaway database (SQLite in a temporary folder; ``--postgres``: a throwaway PostgreSQL
   with durable commits), migrated and seeded by the project's own code (tests.support.seed);
2. ``--households`` households (default 200; ``--quick``: 20) of the seeded village, each
   surveyed from a phone and identified through the whole procedure by the real services, the
   demo's story (``server.demo_story``): every step approved with the signature images its
   document needs, the verification team's two from the phone — so every 附件3 carries five
   signature images a copy;
3. through the REST API in-process (Flask's test client: Basic login, area scope, the read
   service, the templates, WeasyPrint, the audit entry), as the county user:
   ``GET /api/v1/cases/<id>/print/approval.pdf`` once to warm up, then ``--n`` times (default
   20) on random cases: median and max against 0.5 s; then
   ``GET /api/v1/print/villages/<village>/approval.pdf`` once: the whole village as one PDF,
   its time against 60 s, its pages and size, and the process's peak RSS.

The figures include the machine's other load: the project's machine has 2 shared cores.
"""

from __future__ import annotations

import argparse
import base64
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm

from media.factory import store_from_url
from server import create_app
from server.accounts.models import User
from server.auth import Principal
from server.config import PROJECT_ROOT
from server.db import make_engine
from server.demo_story import Cast, Story
from server.forms.models import FormVersion
from server.migrate import upgrade
from server.pipeline.models import Case
from tests.support.postgres import running_postgres
from tests.support.seed import PASSWORD, VILLAGE, seed

ONE_TARGET_S = 0.5
VILLAGE_TARGET_S = 60.0
KINDS = ("01", "02")  # incomes below the line: not 突发严重困难户 (SPEC §4)
RISKS = (["01"], ["07"], ["02", "h"], ["08"], ["01", "09"], ["05"])


def _load(url: str, media: Path, households: int) -> list[int]:
    """Seed the database and take ``households`` families through the identification."""
    upgrade(url)
    engine = make_engine(url)
    with sa.orm.Session(engine) as session:
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
        rng = random.Random(20261205)
        started = time.perf_counter()
        for n in range(households):
            family = story.family(f"b-{n:03d}", 0, rng.randint(1, 6), rng.choice(KINDS),
                                  list(rng.choice(RISKS)), rng.randint(3000, 6000))
            story.survey(family, 60)
            story.identification(family, done_days_ago=30)
            session.commit()
            if (n + 1) % 50 == 0:
                print(f"  {n + 1} households identified "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)
        cases = list(session.scalars(sa.select(Case.id).where(Case.status == "done")))
    engine.dispose()
    return cases


def _auth() -> dict[str, str]:
    token = base64.b64encode(f"county:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def run(households: int, n: int, postgres: bool) -> bool:
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fangpin-print-")))
        if postgres:
            url = stack.enter_context(running_postgres(durable=True))
        else:
            url = f"sqlite:///{folder / 'bench.sqlite3'}"
        media = folder / "media"
        print(f"loading {households} households identified through the procedure "
              f"({'PostgreSQL' if postgres else 'SQLite'}) …", flush=True)
        cases = _load(url, media, households)
        app = create_app({"DATABASE_URL": url, "MEDIA_STORE": str(media),
                          "PUBLIC_URL": "http://bench.example"})
        client = app.test_client()
        headers = _auth()

        def get(path: str) -> tuple[float, bytes, int]:
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            return elapsed, response.get_data(), int(response.headers["X-Page-Count"])

        get(f"/api/v1/cases/{cases[0]}/print/approval.pdf")  # warm-up: fonts, stylesheet
        rng = random.Random(1)
        times = [get(f"/api/v1/cases/{rng.choice(cases)}/print/approval.pdf")[0]
                 for _ in range(n)]
        median, worst = statistics.median(times), max(times)
        print(f"one 附件3 (2 pages, 10 signature images), {n} requests: median "
              f"{median:.3f} s, max {worst:.3f} s (target < {ONE_TARGET_S} s)")
        elapsed, content, pages = get(f"/api/v1/print/villages/{VILLAGE}/approval.pdf")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"a village of {len(cases)} households (附件3, 2 copies each): {elapsed:.1f} s, "
              f"{pages} pages, {len(content) / 1e6:.1f} MB (target < {VILLAGE_TARGET_S} s); "
              f"peak RSS of the process {rss:.0f} MB")
        app.extensions["fangpin.db"].engine.dispose()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, "
          f"{'PostgreSQL' if postgres else 'SQLite'}")
    return median < ONE_TARGET_S and elapsed < VILLAGE_TARGET_S


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 households")
    parser.add_argument("--households", type=int, default=None)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args(argv)
    households = args.households or (20 if args.quick else 200)
    return 0 if run(households, args.n, args.postgres) else 1


if __name__ == "__main__":
    sys.exit(main())
