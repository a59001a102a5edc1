"""The console's 打印 links (issue 14): the case page links its 附件3 / 附件5 (and, for the
county, the print with full numbers), the notices page its 附件4; each link is a PDF made by
the same service as the REST API's, audited. Over real HTTP without a browser."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.domain.idnumber import mask
from tests.support.console import Console
from tests.support.printing import page_count, pdf_text, printable
from tests.support.seed import VILLAGE

pytestmark = pytest.mark.slow


def _links(page: str) -> dict[str, str]:
    """The page's print links by their data-print-form and text."""
    return {html.unescape(text): html.unescape(href) for href, text in re.findall(
        r'<a class="button" href="([^"]+)"[^>]*>([^<]+)</a>', page)}


def test_the_case_and_notices_pages_link_their_printed_forms(live_server, app, db):
    printed = printable(db, app.extensions["fangpin.media"])
    console = Console(live_server)
    assert console.login("county").status_code == 302

    links = _links(console.get(f"/cases/{printed.identification}").text)
    masked = console.http.get(f"{live_server}{links['打印附件3']}")
    full = console.http.get(f"{live_server}{links['打印（完整号码）']}")
    notices = _links(console.get("/notices", params={
        "village": VILLAGE, "from": printed.day(60).isoformat(),
        "to": printed.day(0).isoformat()}).text)
    sheet = console.http.get(f"{live_server}{notices['下载附件4（PDF）']}")

    head = printed.done.head
    assert masked.headers["Content-Type"] == "application/pdf" and page_count(masked.content) == 2
    assert mask(head.id_number) in pdf_text(masked.content)
    assert head.id_number in pdf_text(full.content)
    assert "防止返贫监测对象帮扶措施落实情况表" in pdf_text(sheet.content)
    db.rollback()
    forms = [(e.details["form"], e.details["masked"]) for e in db.scalars(
        select(AuditEntry).where(AuditEntry.action == "print.created").order_by(AuditEntry.id))]
    assert forms == [("approval", True), ("approval", False), ("measures", True)]


def test_a_village_user_has_no_full_number_print(live_server, app, db):
    """Below the county the page offers no print with full numbers, and asking for one is
    refused."""
    printed = printable(db, app.extensions["fangpin.media"])
    console = Console(live_server)
    console.login("village")

    links = _links(console.get(f"/cases/{printed.elimination}").text)
    refused = console.get(f"/cases/{printed.elimination}/print.pdf", params={"full": "1"})

    assert "打印附件5" in links and "打印（完整号码）" not in links
    assert refused.status_code == 403
