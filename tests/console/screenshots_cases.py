"""Screenshots of the case pages (案件, a case, bulk results, 公示) for docs/screenshots/.

    PYTHONPATH=. .venv/bin/python -m tests.console.screenshots_cases [--out docs/screenshots]

A sibling of ``tests/console/screenshots.py`` (same browser, launch flags and server): it loads
the demo into a throwaway instance, then takes households in from the household form (with the
team's and the applicant's signatures, as Collect sends them) and runs their cases through the
pipeline's services — the village review, the notice, an objection, the township's signatures,
a monitoring contact — so that each page shows what it is for. One province deadline is set
(2 working days for an application) so that some cases are overdue.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.console.screenshots import ROOT, _serve

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
# (head, spouse, birth years, A27 risk types, wages): the households of the demo village.
HOUSEHOLDS = (
    ("张建国", "李秀英", ("19650312", "19670821"), "01", "9000"),
    ("王德明", "刘桂芝", ("19660704", "19680115"), "01 08", "6000"),
    ("李志强", "陈美华", ("19781122", "19800409"), "05", "15000"),
    ("赵春生", "周玉兰", ("19700218", "19720930"), "07", "11000"),
    ("刘文华", "黄淑芬", ("19631009", "19650603"), "02", "8000"),
    ("陈国平", "吴小红", ("19830527", "19850113"), "04", "12000"),
    ("杨永福", "孙丽娟", ("19640830", "19660402"), "01 03", "4000"),
)

# Measures recorded (green channel) for the households from the fourth on.
MEASURES = (
    {"a39_industry": "03", "a39_effect": "发展生猪养殖，预计年增收4000元"},
    {"a40_employment": "01", "a40_effect": "推荐到县工业园务工，月收入3200元"},
    {"a45_health": "03", "a45_effect": "大病医疗救助1.2万元"},
    {"a39_industry": "01 05", "a39_effect": "种植油茶20亩", "a44_water": "01"},
)


def signature_png(name: str) -> bytes:
    """A handwritten-looking signature: the name in the CJK font, slanted."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (220, 80), "white")
    ImageDraw.Draw(image).text((14, 10), name, fill=(20, 30, 90),
                               font=ImageFont.truetype(FONT, 44))
    image = image.transform(image.size, Image.AFFINE, (1, 0.25, -10, 0, 1, 0),
                            fillcolor="white")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _prepare(instance: Path) -> None:
    os.environ["FANGPIN_INSTANCE"] = str(instance)
    os.environ.setdefault("PUBLIC_URL", "http://192.168.1.20:5000")
    from sqlalchemy import select, update

    from media.uploads import UploadedFile
    from server import clock, create_app
    from server.accounts.models import User
    from server.areas.models import Area
    from server.auth import Principal
    from server.cli import main
    from server.db import database
    from server.demo import TOWNSHIPS
    from server.domain.deadlines import StepDeadline
    from server.domain.pipeline import Action, Procedure, Step
    from server.figures.services import set_step_deadline
    from server.forms.models import FormVersion
    from server.intake import take_in
    from server.pipeline import services, signatures
    from server.pipeline.models import Case
    from server.submissions.models import Submission
    from server.submissions.services import ingest_submission
    from tests.support.collect import form_instance
    from tests.support.households import SURVEY_FIELDS, address, id_number

    main(["demo"], standalone_mode=False)
    app = create_app()
    store = app.extensions["fangpin.media"]
    today = clock.today()
    with app.app_context(), database().unit_of_work() as unit:
        session = unit.session
        people = {u.username: Principal.of(u) for u in session.scalars(select(User))}
        helper, village, township, county = (people[n] for n in
                                             ("helper1", "village", "township", "county"))
        set_step_deadline(session, StepDeadline("43", Procedure.IDENTIFICATION,
                                                Step.APPLICATION, 2, "演示：申请后2个工作日内核实"))
        version = session.scalar(select(FormVersion.version).where(
            FormVersion.form_id == "household").order_by(FormVersion.id.desc()))
        households = []
        for n, (head, spouse, births, risks, wages) in enumerate(HOUSEHOLDS, start=1):
            members = [
                {"a5_name": head, "a7_id_number": id_number("430421", births[0], 10 + n),
                 "a8_relation": "01", "a14_labour_skill": "01",
                 "a17_basic_medical_insurance": "01"},
                {"a5_name": spouse, "a7_id_number": id_number("430421", births[1], 20 + n),
                 "a8_relation": "02", "a14_labour_skill": "05",
                 "a17_basic_medical_insurance": "01"}]
            fields = {**SURVEY_FIELDS, **address(helper.area_code), "a27_risk_types": risks,
                      "a28_wages": wages, "phone": f"1387341{n:04d}",
                      "applicant_can_sign": "01", "sig_applicant": "sig.png"}
            xml = form_instance("household", version, fields, members).replace(
                b"<meta>", b"<team><team_signature>t1.png</team_signature></team>"
                           b"<team><team_signature>t2.png</team_signature></team><meta>")
            files = [UploadedFile("t1.png", io.BytesIO(signature_png("周建军")), "image/png"),
                     UploadedFile("t2.png", io.BytesIO(signature_png("罗海燕")), "image/png"),
                     UploadedFile("sig.png", io.BytesIO(signature_png(head)), "image/png")]
            result = ingest_submission(session, store, helper, xml, files)
            take_in(session, result.submission_id, today)
            households.append(session.get(Submission, result.submission_id).household_id)

        measures = session.scalar(select(FormVersion.version).where(
            FormVersion.form_id == "measures").order_by(FormVersion.id.desc()))
        for household, values in zip(households[3:], MEASURES, strict=False):
            xml = form_instance("measures", measures, {
                "household": household, "measure_date": today.isoformat(),
                "green_channel": "01", **values})
            result = ingest_submission(session, store, helper, xml, [])
            take_in(session, result.submission_id, today)

        def act(case, action, who, day=today, opinion="", signed=()):
            locked = services.lock_case(session, case.id, who)
            signatures.act_signed(
                session, store, locked, action, who, day, opinion, [], [],
                [(s, UploadedFile(f"{s}.png", io.BytesIO(signature_png(name)), "image/png"))
                 for s, name in signed])

        cases = [services.open_case(session, Procedure.IDENTIFICATION, helper.area_code,
                                    helper, household_id=h, origin=origin)
                 for h, origin in zip(households, ("01", "02", "02", "03", "01", "02", "02"),
                                      strict=True)]
        notice_end = today + timedelta(days=8)
        # 1: at the application; 2: verification; 3: in its notice with an objection;
        # 4: at the township; 5 and 6: at the county (5 lacks its monitoring contact);
        # 7: a monitoring object.
        for case in cases[1:]:
            act(case, Action.APPROVE, helper, opinion="户主已签署申请及承诺授权书")
        for case in cases[2:]:
            act(case, Action.APPROVE, helper, opinion="核实小组2人入户核实，情况属实")
            act(case, Action.APPROVE, village, opinion="村评议小组民主评议通过")
        services.raise_objection(session, cases[2].id, village, "有村民反映该户有一辆经营性货车")
        for case in cases[3:]:
            act(case, Action.APPROVE, village, notice_end, "公示7天期满，无异议",
                [("village_secretary", "何卫东")])
        for case in cases[4:]:
            act(case, Action.APPROVE, township, notice_end, "经审核，同意纳入监测对象",
                [("township_secretary", "邓志刚"), ("township_head", "曾晓明")])
        for household in households[5:]:
            services.assign_contact(session, household, village, "谭立新", "洪市镇人民政府",
                                    "副镇长", "13907341234")
        act(cases[6], Action.APPROVE, county, notice_end, "经比对审定，纳入监测对象")
        # Overdue: the first case has waited a week at its application.
        week_ago = datetime.now(UTC) - timedelta(days=7)
        session.execute(update(Case).where(Case.id == cases[0].id)
                        .values(opened_at=week_ago, step_entered_at=week_ago))
        # Cases without households in the township's other villages, for the lists.
        others = session.scalars(select(Area.code).where(
            Area.parent_code == TOWNSHIPS[0], Area.level == "village",
            Area.code != village.area_code).order_by(Area.code).limit(6)).all()
        for code in others:
            services.open_case(session, Procedure.IDENTIFICATION, code, county, origin="03")
    app.extensions["fangpin.db"].engine.dispose()


def _shoot(base: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from server.demo import DEMO_PASSWORD
    from tests.support.console import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, log_in

    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def shot(page, name: str) -> None:
        path = out / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        page = context.new_page()
        log_in(page, base, "township", DEMO_PASSWORD)
        page.goto(f"{base}/console/cases")
        shot(page, "cases")
        context.close()

        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        page = context.new_page()
        log_in(page, base, "county", DEMO_PASSWORD)
        page.goto(f"{base}/console/cases?step=county_approval")
        page.get_by_label("全选本页").check()
        page.get_by_role("radio", name="通过").check()
        page.get_by_role("button", name="批量办理").click()
        shot(page, "cases-bulk")
        context.close()

        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        page = context.new_page()
        log_in(page, base, "village", DEMO_PASSWORD)
        page.goto(f"{base}/console/cases?step=public_notice")
        page.locator("tr[data-case-id] a").first.click()
        shot(page, "case")
        page.get_by_role("radio", name="通过").check()
        page.get_by_role("button", name="提交办理").click()
        shot(page, "case-refused")
        page.goto(f"{base}/console/notices")
        shot(page, "notices")
        page.emulate_media(media="print")
        shot(page, "notices-print")
        context.close()

        context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
        page = context.new_page()
        log_in(page, base, "village", DEMO_PASSWORD)
        page.goto(f"{base}/console/cases")
        shot(page, "cases-phone")
        page.locator("tr[data-case-id] a").first.click()
        shot(page, "case-phone")
        context.close()
        browser.close()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fangpin-shots-") as instance:
        _prepare(Path(instance))
        server, base = _serve()
        try:
            for path in _shoot(base, args.out.resolve()):
                print(path)
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
