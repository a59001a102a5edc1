"""Screenshots of the console's pages for docs/screenshots/, with the demo's data.

    PYTHONPATH=. .venv/bin/python -m tests.console.screenshots [--out docs/screenshots]

Loads the demo (``fangpin demo``) into a throwaway instance folder, opens a few identification
cases through the pipeline service so that 工作台 has something to count, serves the app on
127.0.0.1 and photographs each page in Debian's Chromium (the tests' browser and launch flags),
at 1366×768 and at a phone's width. Chinese is drawn with the system's Noto Sans CJK.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _prepare(instance: Path) -> None:
    """The demo, then cases at the first step in the village user's and other villages."""
    os.environ["FANGPIN_INSTANCE"] = str(instance)
    os.environ.setdefault("PUBLIC_URL", "http://192.168.1.20:5000")
    from sqlalchemy import select

    from server import create_app
    from server.accounts.models import User
    from server.areas.models import Area
    from server.auth import Principal
    from server.cli import main
    from server.db import database
    from server.demo import TOWNSHIPS
    from server.domain.pipeline import Procedure
    from server.pipeline.services import open_case

    main(["demo"], standalone_mode=False)
    app = create_app()
    with app.app_context(), database().unit_of_work() as unit:
        session = unit.session
        village = Principal.of(session.scalar(select(User).where(User.username == "village")))
        county = Principal.of(session.scalar(select(User).where(User.username == "county")))
        others = session.scalars(select(Area.code).where(
            Area.parent_code == TOWNSHIPS[0], Area.level == "village",
            Area.code != village.area_code).order_by(Area.code).limit(4)).all()
        for _ in range(5):
            open_case(session, Procedure.IDENTIFICATION, village.area_code, village)
        for code in others:
            open_case(session, Procedure.IDENTIFICATION, code, county)
    app.extensions["fangpin.db"].engine.dispose()


def _serve():
    from werkzeug.serving import make_server

    from server import create_app

    app = create_app({"SESSION_COOKIE_SECURE": False})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


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
        for size, suffix in ((DESKTOP, ""), (PHONE, "-phone")):
            context = browser.new_context(viewport=size, locale="zh-CN",
                                          device_scale_factor=1 if size is DESKTOP else 2)
            page = context.new_page()
            page.goto(f"{base}/console/login")
            shot(page, f"login{suffix}")
            log_in(page, base, "village", DEMO_PASSWORD)
            shot(page, f"workbench{suffix}")
            context.close()

        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        page = context.new_page()
        log_in(page, base, "county", DEMO_PASSWORD)
        shot(page, "workbench-county")
        page.goto(f"{base}/console/users")
        shot(page, "users")
        page.get_by_role("link", name="新建用户").click()
        shot(page, "user-new")
        page.goto(f"{base}/console/users")
        page.get_by_role("link", name="helper1").click()
        page.get_by_role("button", name="签发新密钥并显示二维码").click()
        shot(page, "user-collect-qr")
        page.goto(f"{base}/console/password")
        shot(page, "password")
        page.goto(f"{base}/console/areas?code=430421107")
        shot(page, "areas")
        page.goto(f"{base}/console/areas?code=430421107003")
        shot(page, "areas-village")
        page.goto(f"{base}/console/households")
        page.locator("[data-job-dataset]").first.click()  # 后台导出: lands on 后台任务
        page.wait_for_url(f"{base}/console/jobs")
        page.wait_for_selector("tr[data-state='done']", timeout=60_000)
        shot(page, "jobs")
        page.goto(f"{base}/console/users/999999")
        shot(page, "error")
        context.close()
        _dashboard_and_warnings(browser, base, shot)
        browser.close()
    return shots


def _dashboard_and_warnings(browser, base: str, shot) -> None:
    """统计看板 (desktop and phone) and 部门预警: the county's lists, the import report of a
    list naming demo people, a village's home-check tasks."""
    import requests

    from server.demo import DEMO_PASSWORD
    from server.domain.idnumber import check_character
    from tests.support.console import DESKTOP, PHONE, log_in

    for size, suffix in ((DESKTOP, ""), (PHONE, "-phone")):
        context = browser.new_context(viewport=size, locale="zh-CN",
                                      device_scale_factor=1 if size is DESKTOP else 2)
        page = context.new_page()
        log_in(page, base, "county", DEMO_PASSWORD)
        page.goto(f"{base}/console/dashboard")
        page.wait_for_selector(".chart[data-drawn]")
        shot(page, f"dashboard{suffix}")
        context.close()

    people = requests.get(f"{base}/api/v1/people", params={"page_size": 3, "deceased": "false"},
                          auth=("county", DEMO_PASSWORD), timeout=30).json()
    unknown = "43042119660606055"  # a valid number nobody in the registry has
    unknown += check_character(unknown)
    first = people[0]["id_number"]
    mistyped = first[:17] + ("1" if first[17] == "0" else "0")
    rows = [("县医疗保障局", people[0]["id_number"], "住院自付费用超过 2 万元"),
            ("县医疗保障局", people[1]["id_number"], "住院自付费用超过 2 万元"),
            ("县人力资源和社会保障局", people[2]["id_number"], "失业登记超过 6 个月"),
            ("县民政局", unknown, "申请临时救助"), ("县残联", mistyped, "新办残疾证")]
    listed = "部门,身份证号码,原因,日期\n" + "".join(
        f"{department},{number},{reason},2026-11-20\n" for department, number, reason in rows)
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    log_in(page, base, "county", DEMO_PASSWORD)
    page.goto(f"{base}/console/warnings")
    shot(page, "warnings")
    page.get_by_label("名单文件").set_input_files(files=[{
        "name": "2026年11月医保人社预警名单.csv", "mimeType": "text/csv",
        "buffer": listed.encode("utf-8")}])
    page.get_by_role("button", name="上传并匹配").click()
    shot(page, "warning-report")
    context.close()
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    log_in(page, base, "village", DEMO_PASSWORD)
    page.goto(f"{base}/console/warnings/tasks?open=all")
    shot(page, "warning-tasks")
    context.close()


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
