"""Screenshots of the console's registry pages (农户, 审核, 冲突, 疑似重复) for docs/screenshots/.

    PYTHONPATH=. .venv/bin/python -m tests.console.screenshots_registry [--out docs/screenshots]

The sibling of ``tests.console.screenshots`` (same throwaway demo instance, same browser): it
loads the demo, then sends household surveys as the demo's helper would — through the
submission service and the take-in, with photos, signatures and a GPS point — so that the
registry has households, a resurvey to compare, a submission that failed the checks, a conflict
and a likely duplicate; then it photographs each page, one function per page.
"""

from __future__ import annotations

import argparse
import io
import re
import tempfile
from pathlib import Path

from tests.console.screenshots import ROOT, _prepare, _serve
from tests.support.households import id_number, member_answers, valid_household

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
VISITS = ("2026-03-10", "2026-10-20")
HEAD = id_number("430421", "19800101", 11)  # 张三, whose household is surveyed twice


# --- pictures a phone would take ----------------------------------------------------------------


def _font(size: int):
    from PIL import ImageFont

    return ImageFont.truetype(FONT, size)


def _jpeg(image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _house_photo(seed: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1600, 1200), (150, 190, 225))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 800, 1600, 1200), fill=(110, 150, 80))
    left = 380 + 40 * seed
    draw.rectangle((left, 520, left + 800, 900), fill=(205, 190, 160))
    draw.polygon([(left - 60, 540), (left + 400, 250), (left + 860, 540)], fill=(120, 60, 50))
    draw.rectangle((left + 330, 680, left + 470, 900), fill=(90, 60, 40))
    for x in (left + 90, left + 580):
        draw.rectangle((x, 600, x + 140, 720), fill=(230, 240, 250))
    return _jpeg(image)


def _document_photo(title: str, lines: list[str]) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1400, 1000), (96, 80, 70))
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 80, 1280, 920), fill=(244, 236, 214))
    draw.text((700, 200), title, font=_font(90), fill=(150, 40, 30), anchor="mm")
    for n, line in enumerate(lines):
        draw.text((220, 360 + 110 * n), line, font=_font(52), fill=(50, 40, 30))
    return _jpeg(image)


def _signature(name: str) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 220), (255, 255, 255, 0))
    ImageDraw.Draw(image).text((40, 40), name, font=_font(120), fill=(20, 20, 60, 255))
    out = io.BytesIO()
    image.rotate(4, expand=False).save(out, "PNG")
    return out.getvalue()


# --- households sent as the helper's phone sends them ------------------------------------------


def _xml(form_id: str, version: str, answers: dict[str, str], instance: str) -> bytes:
    """A filled instance from answers by instance path ("/data/team[2]/team_signature")."""
    from lxml import etree

    root = etree.Element("data", id=form_id, version=version)
    for path, value in answers.items():
        node = root
        for step in path.split("/")[2:]:
            name, _, index = step.partition("[")
            position = int(index.rstrip("]")) if index else 1
            found = [child for child in node if child.tag == name]
            while len(found) < position:
                found.append(etree.SubElement(node, name))
            node = found[position - 1]
        node.text = value
    meta = etree.SubElement(root, "meta")
    etree.SubElement(meta, "instanceID").text = instance
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _household(village: str, visit: str, members: list[tuple], **changes: str) -> dict:
    """The household form's answers: ``members`` as (name, ID, relation, labour skill, {…})."""
    answers = {path: value for path, value in valid_household(village).items()
               if "/members[" not in path}
    for n, (name, id_no, relation, skill, more) in enumerate(members, start=1):
        answers |= member_answers(n, name, id_no, relation, skill, **more)
    answers |= {"/data/visit_date": visit, **changes}
    return answers


def _registry(instance: Path) -> None:
    """Households in the demo helper's village: surveys with pictures, a resurvey, a failed
    check, a conflict and a likely duplicate — each through the submission service and the
    take-in, as Collect's submissions arrive."""
    import uuid

    from sqlalchemy import select

    from media.uploads import UploadedFile
    from server import create_app
    from server.accounts.models import User
    from server.auth import Principal
    from server.db import database
    from server.forms.models import Form
    from server.intake import take_in
    from server.submissions.models import Submission
    from server.submissions.services import ingest_submission

    app = create_app()
    with app.app_context():
        session = database().sessions()
        helper = Principal.of(session.scalar(select(User).where(User.username == "helper1")))
        village = helper.area_code
        version = session.get(Form, "household").current_version.version
        store = app.extensions["fangpin.media"]

        def send(answers: dict, files: dict[str, bytes]) -> tuple[int, str]:
            xml = _xml("household", version, answers, f"uuid:{uuid.uuid4()}")
            uploads = [UploadedFile(name, io.BytesIO(data),
                                    "image/png" if name.endswith(".png") else "image/jpeg")
                       for name, data in files.items()]
            result = ingest_submission(session, store, helper, xml, uploads)
            session.commit()
            state = take_in(session, result.submission_id)
            session.commit()
            return result.submission_id, state

        def pictures(head: str, seed: int) -> dict[str, bytes]:
            return {"hukou.jpg": _document_photo("居民户口簿", [f"户主姓名　{head}",
                                                                 "户　　别　农业家庭户口",
                                                                 "住　　址　衡阳县洪市镇"]),
                    "id.jpg": _document_photo("居民身份证", [f"姓名　{head}", "民族　汉"]),
                    "house.jpg": _house_photo(seed), "sig.png": _signature(head),
                    "t1.png": _signature("赵一"), "t2.png": _signature("钱二")}

        zhang = [("张三", HEAD, "01", "01",
                  {"a15_work_area": "2", "a15_work_place": "湖南省长沙市雨花区",
                   "a16_work_months": "3.5"}),
                 ("李四", id_number("430421", "19820202", 22), "02", "05", {}),
                 ("张小妹", id_number("430421", "20150601", 34), "04", "04",
                  {"a12_schooling": "03"})]
        first, _ = send(_household(village, VISITS[0], zhang), pictures("张三", 0))
        zhang_household = session.get(Submission, first).household_id
        newborn = ("张小宝", id_number("430421", "20260105", 51), "03", "04",
                   {"a17_basic_medical_insurance": "02"})
        resurvey = _household(village, VISITS[1], [*zhang[:2], (*zhang[2][:4], {
            "a12_schooling": "04"}), newborn], **{
            "/data/resurvey": "01", "/data/household": zhang_household,
            "/data/a28_wages": "20000", "/data/a23_housing_unsafe": "02",
            "/data/a36_compliant_out_of_pocket": "3000", "/data/visit_location":
            "26.9123 112.6045 62 4",
            # what the phone computed, for three members: the server counts four
            "/data/a33_net_income": "24000.5", "/data/a34_net_income_per_capita": "8000.17"})
        send(resurvey, pictures("张三", 2))
        # a case on the household, with measures recorded on it (帮扶先行)
        from datetime import date

        from server.domain.fields import EMPLOYMENT, HEALTH_ASSISTANCE, effect_of
        from server.domain.pipeline import Procedure
        from server.pipeline.green_channel import record_measure
        from server.pipeline.services import open_case

        villager = Principal.of(session.scalar(select(User).where(User.username == "village")))
        case = open_case(session, Procedure.IDENTIFICATION, village, villager,
                         household_id=zhang_household)
        record_measure(session, case.id, villager, date.today(), {
            EMPLOYMENT.name: "01", effect_of(EMPLOYMENT).name: "张三到县工业园务工，月收入约3000元",
            HEALTH_ASSISTANCE.name: "01"}, date.today())
        session.commit()
        for n, (head, spouse) in enumerate((("王五", "刘芳"), ("陈六", "周丽"),
                                           ("黄七", "吴霞"), ("孙八", "郑敏")), start=1):
            people = [(head, id_number("430421", f"19{70 + n}0303", 11 + 2 * n), "01", "01",
                       {}),
                      (spouse, id_number("430421", f"19{72 + n}0404", 20 + 2 * n), "02",
                       "05", {})]
            send(_household(village, VISITS[0], people, **{
                "/data/a28_wages": str(6000 + 1500 * n)}), pictures(head, n % 3))
        # a failed check: a wrong ID check character, and wages typed with a separator
        bad = id_number("430421", "19900909", 91)
        send(_household(village, VISITS[1], [
            ("赵九", id_number("430421", "19880808", 81), "01", "01", {}),
            ("钱十", bad[:17] + ("0" if bad[17] != "0" else "1"), "02", "05", {})],
            **{"/data/a28_wages": "12,000"}), {})
        # a conflict: 刘芳 (in 王五's household) listed in a new household (分户?)
        send(_household(village, VISITS[1], [
            ("王小五", id_number("430421", "19960606", 61), "01", "01", {}),
            ("刘芳", id_number("430421", "19730404", 22), "02", "05", {})]), {})
        # a likely duplicate: 张三 again, his ID one digit apart (same name, same birth day)
        near = id_number("430421", "19800101", 13)
        send(_household(village, VISITS[1], [("张三", near, "01", "01", {})]), {})
        session.close()
    app.extensions["fangpin.db"].engine.dispose()


# --- the pages ----------------------------------------------------------------------------------


def _households(page, base: str, shot) -> None:
    page.goto(f"{base}/console/households")
    shot(page, "households")


def _household_page(page, base: str, shot, suffix: str = "") -> None:
    page.goto(f"{base}/console/households")
    page.get_by_label("成员身份证号码").fill(HEAD)
    page.get_by_role("button", name="查找").click()
    page.locator("table.households tbody a").first.click()
    pictures = page.locator("ul.pictures img")
    for n in range(pictures.count()):  # load the lazy thumbnails before the full-page shot
        pictures.nth(n).scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    shot(page, f"household{suffix}")


def _review(page, base: str, shot) -> None:
    page.goto(f"{base}/console/review")
    shot(page, "review")
    page.locator("table.review tbody a").first.click()
    shot(page, "review-submission")


def _conflict(page, base: str, shot) -> None:
    page.goto(f"{base}/console/conflicts")
    shot(page, "conflicts")
    page.locator("table.conflicts tbody a").first.click()
    shot(page, "conflict")
    page.get_by_role("radio", name=re.compile("^真实迁移")).check()
    page.get_by_role("textbox", name=re.compile("^理由")).fill("分户：刘芳随子王小五另立户")
    page.get_by_role("button", name="确认处理").click()
    shot(page, "conflict-resolved")


def _duplicate(page, base: str, shot) -> None:
    page.goto(f"{base}/console/duplicates")
    page.locator("table.duplicates tbody a").first.click()
    shot(page, "duplicate")


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
        log_in(page, base, "village", DEMO_PASSWORD)
        _households(page, base, shot)
        _household_page(page, base, shot)
        _review(page, base, shot)
        _conflict(page, base, shot)
        _duplicate(page, base, shot)
        context.close()
        phone = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
        page = phone.new_page()
        log_in(page, base, "village", DEMO_PASSWORD)
        _household_page(page, base, shot, "-phone")
        phone.close()
        browser.close()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fangpin-shots-") as instance:
        _prepare(Path(instance))
        _registry(Path(instance))
        server, base = _serve()
        try:
            for path in _shoot(base, args.out.resolve()):
                print(path)
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
