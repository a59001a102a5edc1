"""The console's pages in headless Chromium (issue 13): the login lands on 工作台, the menu and
the pages follow the role, an idle session ends, and a county user gives a helper a Collect
QR code that works and then revokes it. Few tests, each a person's whole errand."""

from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from tests.support.console import follow, log_in

# One Chromium for the module (a module-scoped browser): one parallel worker runs the module.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("console_browser")]


def test_the_login_lands_on_the_workbench_with_the_menu_of_the_role(page, live_server):
    """Issue 13: `/` opens on the login page; a county user logs in and lands on 工作台, with
    their queue (县级审定) and the 案件, 公示 and 用户 entries in the menu."""
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/console/login")

    log_in(page, live_server, "county")

    assert page.url == f"{live_server}/console/"
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    mine = page.locator(".tiles [data-step]")
    assert [mine.nth(i).get_attribute("data-step") for i in range(mine.count())] == [
        "county_approval", "county_approval"]
    others = page.locator("table.due [data-due] td[data-count]")
    assert others.count() == 1  # warning tasks; the county reads evaluations on 统计看板
    assert page.locator("[data-due='warning-tasks'] [data-count]").get_attribute("data-count") \
        == "0"
    assert page.get_by_role("navigation", name="主导航").get_by_role("link").all_inner_texts() \
        == ["工作台", "案件", "农户", "审核", "冲突", "疑似重复", "公示", "统计看板", "部门预警",
            "用户", "区划", "后台任务"]


def test_a_village_user_neither_sees_nor_opens_the_users_page(page, live_server):
    """Issue 13: every page shows only what the role allows: no 用户 in a village user's menu,
    and its URL answers 403 FORBIDDEN_ROLE."""
    log_in(page, live_server, "village")
    menu = page.get_by_role("navigation", name="主导航").get_by_role("link").all_inner_texts()

    response = page.goto(f"{live_server}/console/users")

    assert menu == ["工作台", "案件", "农户", "审核", "冲突", "疑似重复", "公示", "部门预警",
                    "后台任务"]
    assert response.status == 403
    assert page.locator("[data-error-code]").get_attribute("data-error-code") == "FORBIDDEN_ROLE"


@pytest.mark.parametrize("console_config", [{"CONSOLE_IDLE_MINUTES": 0.05}])
def test_an_idle_session_ends(page, live_server, console_config):
    """Issue 13: the idle timeout (here 3 s) logs the user out: the next page is the login."""
    log_in(page, live_server, "township")
    assert page.url == f"{live_server}/console/"

    time.sleep(3.5)
    page.goto(f"{live_server}/console/")

    assert page.url.startswith(f"{live_server}/console/login")


def test_a_county_user_gives_a_new_helper_a_collect_qr_code_then_revokes_it(page, live_server):
    """Issue 13: 用户 — create a helper, issue their Collect token (the QR code and the URL are
    shown once and the URL works with Collect's formList), then revoke it (the URL stops)."""
    log_in(page, live_server, "county")
    follow(page, page.get_by_role("navigation", name="主导航").get_by_role("link", name="用户"))
    follow(page, page.get_by_role("link", name="新建用户"))
    page.get_by_label("用户名").fill("helper_qr")
    page.get_by_label("姓名").fill("王小明")
    page.get_by_label("角色").select_option("helper")
    page.get_by_label("区划代码").fill("430421107003")
    page.get_by_label("初始密码").fill("a-long-password-1")
    follow(page, page.get_by_role("button", name="创建"))
    expect(page.get_by_role("heading", name="王小明")).to_be_visible()

    follow(page, page.get_by_role("button", name="签发新密钥并显示二维码"))
    qr = page.get_by_role("img", name="ODK Collect 设置二维码").get_attribute("src")
    url = page.get_by_label("服务器地址（也可手动输入）").input_value()
    form_list = requests.get(url.replace("http://phones.example", live_server) + "/formList",
                             timeout=30)
    follow(page, page.get_by_role("button", name="撤销全部密钥"))
    revoked = requests.get(url.replace("http://phones.example", live_server) + "/formList",
                           timeout=30)

    assert qr.startswith("data:image/png;base64,")
    assert url.startswith("http://phones.example/key/")
    assert form_list.status_code == 200
    assert revoked.status_code == 401
    assert page.locator("[data-active-tokens]").get_attribute("data-active-tokens") == "0"


def test_a_county_user_finds_a_village_in_the_tree_and_adds_and_renames_its_group(page,
                                                                                 live_server):
    """Issue 13: 区划 — from the county down to a village (the households and users counted at
    each level), a 村民小组 added after the village's last and renamed; a refused name is
    explained beside its field."""
    log_in(page, live_server, "county")
    follow(page, page.get_by_role("navigation", name="主导航").get_by_role("link", name="区划"))
    county_users = int(page.locator("[data-users]").get_attribute("data-users"))
    follow(page, page.locator("tr[data-area-code='430421107']").get_by_role("link"))
    follow(page, page.locator("tr[data-area-code='430421107003']").get_by_role("link"))
    expect(page.get_by_role("heading", name="洪罗庙社区")).to_be_visible()

    page.get_by_label("新小组名称").fill("第三村民小组")
    follow(page, page.get_by_role("button", name="添加"))
    added = page.locator("tr[data-area-code='430421107003003']")
    added.get_by_role("textbox").fill("新屋组")
    follow(page, added.get_by_role("button", name="改名"))
    name = page.get_by_label("新小组名称")
    name.evaluate("field => field.removeAttribute('maxlength')")  # what the server must refuse
    name.fill("组" * 41)
    follow(page, page.get_by_role("button", name="添加"))

    assert page.locator("[data-error-code]").get_attribute("data-error-code") \
        == "AREA_NAME_INVALID"
    rows = page.locator("table.areas tbody tr")
    assert [rows.nth(i).get_attribute("data-area-code") for i in range(rows.count())] == [
        "430421107003001", "430421107003002", "430421107003003"]
    assert page.locator("tr[data-area-code='430421107003003'] input[name=name]").input_value() \
        == "新屋组"
    assert county_users >= 5  # the seed's users, all inside the county
