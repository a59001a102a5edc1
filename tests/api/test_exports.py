"""County exports over real HTTP (issue 14, SPEC §7): GET /api/v1/exports/<dataset> as CSV
(UTF-8 with BOM) and XLSX (real number and date cells, the 导出说明 sheet), filters, the national
profile, masking by role, the audit entry with its row count, who is refused, streaming."""

from __future__ import annotations

import csv
import inspect
import io
import zipfile
from datetime import datetime, timedelta
from urllib.parse import unquote

import openpyxl
import pytest
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.clock import today
from server.domain import fields
from server.domain.datasets import DATASETS, Profile
from server.domain.idnumber import mask
from server.domain.roles import Role
from tests.api.test_monitoring import OTHER_HEAD, identify
from tests.api.test_monitoring import post_household as post_signed_household
from tests.support.collect import png_bytes
from tests.support.households import CHILD, HEAD, HEAD_ID, SPOUSE, SPOUSE_ID
from tests.support.rest import Api, add_user
from tests.support.seed import OTHER_TOWNSHIP, TOWNSHIP, VILLAGE

MONEY = fields.WAGES.header  # "A28 工资性收入(元)"
VISIT = fields.BY_NAME["visit_date"].header


def download(api: Api, dataset: str, **params):
    response = api.get(f"/exports/{dataset}", **params)
    assert response.status_code == 200, response.text
    return response


def read_csv(response) -> tuple[str, list[str], list[dict[str, str]]]:
    """The description line, the header and the rows of a CSV export."""
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    description, header, rows = lines[0][0], lines[1], lines[2:]
    return description, header, [dict(zip(header, row, strict=True)) for row in rows]


def read_xlsx(response) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(response.content))


def audit_entries(db) -> list[AuditEntry]:
    db.commit()
    return db.scalars(select(AuditEntry).where(AuditEntry.action == "export.created")
                      .order_by(AuditEntry.id)).all()


@pytest.fixture
def registry(live_server, seeded, db) -> dict[str, str]:
    """Two households of the seeded village: one identified (a monitoring object, its case run
    through every step), one only surveyed; three and one members."""
    monitored = post_signed_household(live_server, seeded, db, [HEAD, SPOUSE, CHILD])
    surveyed = post_signed_household(live_server, seeded, db, [OTHER_HEAD])
    identify(db, monitored)
    return {"monitored": monitored, "surveyed": surveyed}


def test_an_xlsx_export_has_real_numbers_and_dates_and_says_who_exported_it(
        live_server, registry, db):
    county = Api(live_server, "county")

    response = download(county, "households", format="xlsx", labels=1)

    assert response.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.headers["X-Accel-Buffering"] == "no" and "Content-Length" not in \
        response.headers
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''" in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]).startswith("农户_衡阳县_")
    book = read_xlsx(response)
    assert book.sheetnames == ["导出说明", "农户"]
    sheet = book["农户"]
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, (c for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert header[:6] == ["户编号", "乡镇（街道）", "村（社区）", "村民小组", "户主姓名",
                          "户主身份证号码"]
    # A-fields in A-code order, headed as the registry heads them
    coded = [h for h in header if h.startswith("A")]
    assert coded == [f.header for f in fields.in_code_order() if f.header in coded]
    assert MONEY in header and fields.NET_INCOME_PER_CAPITA.header in header
    assert len(rows) == 2
    head = next(r for r in rows if r["户编号"].value == registry["monitored"])
    assert head["户主姓名"].value == "张三" and head["乡镇（街道）"].value == "洪市镇"
    wages = head[MONEY]
    assert wages.data_type == "n" and wages.value == 12000 and wages.number_format == "0.00"
    assert head[fields.NET_INCOME.header].value == 15500
    visit = head[VISIT]
    assert isinstance(visit.value, datetime) and visit.value.date().isoformat() == "2021-05-12"
    assert visit.is_date
    assert head["是否监测对象"].value == "是" and head["纳入监测时间"].is_date
    assert head[fields.RISK_TYPES.header].value == "因病"  # labels=1 (A27 01)
    assert head["户主身份证号码"].value == mask(HEAD_ID)  # masked unless full=1 is asked
    info = {row[0].value: row[1].value for row in book["导出说明"].iter_rows()}
    assert info["行数"] == "2"
    assert "测试county" in info["导出人"] and "县级" in info["导出人"]
    assert "北京时间" in info["导出时间"] and info["筛选"] == "无（本辖区全部）"
    assert info["身份证号码和电话"].startswith("已脱敏")
    assert info["口径"] == "完整数据集"

    [entry] = audit_entries(db)
    assert entry.object_id == "households" and entry.details["rows"] == 2
    assert entry.details["format"] == "xlsx" and entry.details["masked"] is True
    assert entry.details["complete"] is True


def test_a_csv_export_is_utf8_with_bom_a_description_line_and_codes(live_server, registry, db):
    county = Api(live_server, "county")

    description, header, rows = read_csv(download(county, "members"))

    assert description.startswith("# 数据集：家庭成员（members）")
    assert "导出人：测试county" in description and "已脱敏" in description
    assert header[6:9] == [fields.NAME.header, fields.SEX.header, fields.ID_NUMBER.header]
    assert len(rows) == 4
    spouse = next(r for r in rows if r[fields.NAME.header] == "李四")
    assert spouse[fields.SEX.header] == "女"  # A6 from the ID number
    assert spouse[fields.RELATION.header] == "02"  # a code, labels=0
    assert spouse[fields.ID_NUMBER.header] == mask(SPOUSE_ID)
    assert spouse[VISIT] == "2021-05-12" and spouse["户主姓名"] == "张三"
    assert [r["成员序号"] for r in rows if r["户编号"] == registry["monitored"]] == ["1", "2",
                                                                                  "3"]
    [entry] = audit_entries(db)
    assert entry.details["rows"] == 4 and entry.details["format"] == "csv"


def test_filters_narrow_the_rows(live_server, registry, db):
    county = Api(live_server, "county")

    def ids(dataset="households", **params):
        return sorted(r["户编号"] for r in read_csv(download(county, dataset, **params))[2])

    both = sorted(registry.values())
    assert ids() == both
    assert ids(objects=1) == [registry["monitored"]]
    assert ids(objects=0) == both
    assert ids(area_code=TOWNSHIP) == both and ids(area_code=VILLAGE) == both
    assert ids(area_code=OTHER_TOWNSHIP) == []
    assert ids(procedure="identification", status="done") == [registry["monitored"]]
    assert ids(step="township_review") == []
    day = today()
    assert ids(approved_from=day.isoformat()) == [registry["monitored"]]
    assert ids(approved_to=(day - timedelta(days=1)).isoformat()) == []
    assert ids(visit_from="2021-05-12", visit_to="2021-05-12") == both
    assert ids(visit_from="2021-05-13") == []
    assert ids(risk="6") == both  # ⑥ 因病: A27 01
    assert ids(risk="2") == []
    assert ids("members", objects=1) == [registry["monitored"]] * 3
    # the cases of the household, and their events, with the same filters
    cases = read_csv(download(county, "cases", labels=1))[2]
    assert [(c["程序"], c["当前环节"], c["状态"]) for c in cases] == [
        ("识别程序", "县级审定", "已办结")]
    events = read_csv(download(county, "case_events", procedure="identification"))[2]
    assert [e["操作"] for e in events] == ["立案"] + ["通过"] * 6
    assert events[-1]["原环节"] == "县级审定" and events[-1]["经办人"] == "测试county"
    assert read_csv(download(county, "case_events", status="open"))[2] == []
    assert len(audit_entries(db)) == 18


def test_the_national_profile_leaves_out_archive_only_fields(live_server, registry):
    county = Api(live_server, "county")
    archive_only = [f.header for f in fields.FIELDS if f.archive_only]
    assert archive_only  # 填表日期

    full = read_csv(download(county, "households"))[1]
    national = read_csv(download(county, "households", profile="national"))[1]

    assert set(archive_only) <= set(full)
    assert not set(archive_only) & set(national)
    assert national == [h for h in full if h not in archive_only]
    assert national == [c.header for c in DATASETS["households"].columns_of(Profile.NATIONAL)]


def test_full_numbers_only_for_a_role_that_sees_them_and_asks(live_server, registry, db):
    county, township = Api(live_server, "county"), Api(live_server, "township")

    full = read_xlsx(download(county, "members", format="xlsx", full=1))
    refused = township.get("/exports/members", full=1)
    masked = read_csv(download(township, "households"))

    ids = [row[8].value for row in full["家庭成员"].iter_rows(min_row=2)]
    assert HEAD_ID in ids and SPOUSE_ID in ids
    assert full["导出说明"]["B8"].value.startswith("完整")
    assert refused.status_code == 403 and refused.json()["code"] == "EXPORT_FULL_FORBIDDEN"
    assert {r["户主身份证号码"] for r in masked[2]} == {mask(HEAD_ID),
                                                       mask(OTHER_HEAD["a7_id_number"])}
    assert all("****" in r["联系电话"] for r in masked[2] if r["联系电话"])
    entries = audit_entries(db)
    assert [(e.details["masked"], e.details["rows"]) for e in entries] == [(False, 4), (True, 2)]


def test_who_may_export_and_what_is_refused(live_server, seeded, db):
    add_user(db, "township_other", Role.TOWNSHIP, OTHER_TOWNSHIP)
    for username in ("village", "helper"):
        refused = Api(live_server, username).get("/exports/households")
        assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN_ROLE"
    county = Api(live_server, "county")
    for params, status, code in (
            ({"format": "pdf"}, 422, "EXPORT_ARGUMENT_INVALID"),
            ({"labels": "yes please"}, 422, "EXPORT_ARGUMENT_INVALID"),
            ({"visit_from": "2021-13-01"}, 422, "EXPORT_ARGUMENT_INVALID"),
            ({"approved_from": "0001-01-01"}, 422, "EXPORT_ARGUMENT_INVALID"),
            ({"approved_to": "9999-12-31"}, 422, "EXPORT_ARGUMENT_INVALID"),
            ({"visit_from": "2021-05-02", "visit_to": "2021-05-01"}, 422,
             "EXPORT_ARGUMENT_INVALID"),
            ({"risk": "15"}, 422, "EXPORT_ARGUMENT_INVALID"),
            ({"colour": "red"}, 422, "EXPORT_ARGUMENT_INVALID"),
            ({"area_code": "430422"}, 403, "AREA_OUTSIDE_SCOPE")):
        response = county.get("/exports/households", **params)
        assert (response.status_code, response.json()["code"]) == (status, code), params
    assert county.get("/exports/households", format="pdf").json()["details"]["argument"] == \
        "format"
    unknown = county.get("/exports/passwords")
    assert unknown.status_code == 404 and unknown.json()["code"] == "EXPORT_DATASET_UNKNOWN"
    other = Api(live_server, "township_other").get("/exports/households", area_code=TOWNSHIP)
    assert other.status_code == 403 and other.json()["code"] == "AREA_OUTSIDE_SCOPE"
    assert audit_entries(db) == []  # nothing was exported


def test_a_township_exports_its_own_township_only(live_server, seeded, db):
    add_user(db, "township_other", Role.TOWNSHIP, OTHER_TOWNSHIP)
    post_signed_household(live_server, seeded, db, [HEAD])

    mine = read_csv(download(Api(live_server, "township"), "households"))[2]
    other = read_csv(download(Api(live_server, "township_other"), "households"))[2]

    assert len(mine) == 1 and other == []


def test_the_response_is_streamed_and_every_dataset_exports(app, registry):
    client = app.test_client()
    headers = {"Authorization": "Basic Y291bnR5OmNvcnJlY3QgaG9yc2UgYmF0dGVyeQ=="}  # county

    for dataset in DATASETS:
        for fmt in ("csv", "xlsx"):
            response = client.get(f"/api/v1/exports/{dataset}?format={fmt}&labels=1",
                                  headers=headers)
            assert response.status_code == 200, (dataset, fmt, response.text)
            assert response.is_streamed and "Content-Length" not in response.headers
            body = response.get_data()
            if fmt == "csv":
                assert body.startswith(b"\xef\xbb\xbf# ")
            else:
                book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
                assert book.sheetnames[0] == "导出说明"


def test_the_command_line_exports_through_the_same_service(app, registry, db, tmp_path):
    """``fangpin export`` (progress bar on stderr): the same file and audit entry as the API;
    the same refusals."""
    from server.cli import main

    runner = app.test_cli_runner()
    target = tmp_path / "成员.xlsx"

    result = runner.invoke(main, ["export", "members", "--user", "county", "--format", "xlsx",
                                  "--objects", "--labels", "--out", str(target)])
    refused = runner.invoke(main, ["export", "members", "--user", "village",
                                   "--out", str(tmp_path / "no.csv")])
    bad = runner.invoke(main, ["export", "members", "--user", "county", "--risk", "99",
                               "--out", str(tmp_path / "no.csv")])

    photos = runner.invoke(main, ["export", "media", "--user", "county", "--objects",
                                  "--out", str(tmp_path / "照片.zip")])
    assert photos.exit_code == 0 and "已导出 2 个文件" in photos.output, photos.output
    assert len(zipfile.ZipFile(tmp_path / "照片.zip").namelist()) == 2 + 1
    assert result.exit_code == 0, result.output
    assert "已导出 3 行" in result.output
    sheet = openpyxl.load_workbook(target)["家庭成员"]
    assert [row[6].value for row in sheet.iter_rows(min_row=2)] == ["张三", "李四", "张小"]
    assert refused.exit_code == 1 and "FORBIDDEN_ROLE" in refused.output
    assert bad.exit_code == 1 and "EXPORT_ARGUMENT_INVALID" in bad.output
    entry, media_entry = audit_entries(db)
    assert media_entry.object_id == "media" and media_entry.details["rows"] == 2
    assert entry.details["rows"] == 3 and entry.details["filters"] == {"objects": True}
    assert entry.details["labels"] is True and entry.details["format"] == "xlsx"


def test_an_export_is_a_generator_audited_however_its_stream_ends(app, registry, db):
    """``produce`` is a generator (nothing is read before the first chunk is asked for); a
    client that stops reading leaves an entry that says the export is incomplete, with the rows
    written so far; a stream read to its end, complete with its count."""
    from server.exports import services
    from tests.integration.conftest import user

    database = app.extensions["fangpin.db"]
    export = services.prepare(db, user(db, "county"), "members", {"format": "csv"})

    cut = services.produce(database, export)
    assert inspect.isgenerator(cut) and audit_entries(db) == []
    first = next(cut)  # the BOM, the description and the header
    cut.close()
    whole = b"".join(services.produce(database, export))

    assert first.startswith(b"\xef\xbb\xbf# ") and whole.startswith(first)
    assert [(e.details["rows"], e.details["complete"]) for e in audit_entries(db)] == [
        (0, False), (4, True)]


def test_the_photos_and_signatures_of_a_selection_as_a_zip(live_server, registry, db):
    """The media ZIP: ``<乡镇>/<村>/<户主姓名>_<户编号>/<字段>_<n>.png`` with the files as the
    phones sent them, manifest.csv at the root, the filters, county only, audited."""
    county = Api(live_server, "county")

    response = county.get("/exports/media")
    only_monitored = county.get("/exports/media", objects=1)
    refused = Api(live_server, "township").get("/exports/media")

    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    assert "照片和签名_衡阳县_" in unquote(response.headers["Content-Disposition"])
    book = zipfile.ZipFile(io.BytesIO(response.content))
    assert book.testzip() is None
    monitored = registry["monitored"]
    folder = next(n.rsplit("/", 1)[0] for n in book.namelist() if monitored in n)
    assert folder.startswith("洪市镇/") and folder.endswith(f"/张三_{monitored}")
    assert sorted(n for n in book.namelist() if n.startswith(folder)) == [
        f"{folder}/入户核实人员签字_1.png", f"{folder}/入户核实人员签字_2.png"]
    assert book.read(f"{folder}/入户核实人员签字_1.png") == png_bytes()
    manifest = list(csv.reader(io.StringIO(book.read("manifest.csv").decode("utf-8-sig"))))
    assert manifest[0][0].startswith("# 内容：照片和签名；导出人：测试county")
    assert manifest[1][:2] == ["文件", "乡镇（街道）"]
    assert len(manifest) == 2 + 4 and {row[-1] for row in manifest[2:]} == {"已打包"}
    monitored_only = zipfile.ZipFile(io.BytesIO(only_monitored.content)).namelist()
    assert len(monitored_only) == 3 and all(monitored in n for n in monitored_only[:2])
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN_ROLE"
    entries = audit_entries(db)
    assert [(e.object_id, e.details["rows"], e.details["complete"]) for e in entries] == [
        ("media", 4, True), ("media", 2, True)]
    assert entries[0].details["bytes"] == 4 * len(png_bytes())
