"""REST: the printed forms as PDF (附件1–5), in the reader's area, audited (``print.created``).

- ``GET /cases/<id>/print/{approval|elimination}.pdf`` — 附件3 of an identification, 附件5 of a
  risk elimination, two copies (乡镇留存, 村留存);
- ``GET /households/<id>/print/{application|survey|approval|elimination}.pdf`` — 附件1, the
  filled 附件2, and 附件3/附件5 of the household's latest case of the procedure;
- ``GET /print/villages/<code>/{measures|approval|elimination|application|survey}.pdf`` — a
  village's (or any area's) batch as one PDF: 附件4 for the notices of ``from``–``to`` (the last
  30 days by default), 附件3/附件5 of its cases open in the period, 附件1/附件2 of its households;
- ``GET /print/blank/survey.pdf`` — a blank 附件2 for a household surveyed on paper.

``full=1`` prints ID and phone numbers in full: county and admin only (403 otherwise).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app
from flask.views import MethodView

from server import db
from server.clock import today
from server.domain.printed import PrintedForm
from server.jobs.queries import job_view
from server.jobs.schemas import JobSchema
from server.printing import jobs as print_jobs
from server.printing import services
from server.printing.schemas import AreaPrintArgsSchema, BlankPrintArgsSchema, PrintArgsSchema
from server.rest import blueprint, current_user, errors, filename_parameters

bp = blueprint("printing", __name__, "", "打印表格（附件1–5，PDF）")

NOTICE_PERIOD_DAYS = 30  # 附件4 without a period: the notices of the last 30 days
_PDF = {"200": {"description": "PDF 文件（X-Page-Count：页数）", "content": {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


def _pdf(printed: services.Printed) -> Response:
    response = Response(printed.content, mimetype="application/pdf")
    response.headers.set("Content-Disposition", "attachment",
                         **filename_parameters(printed.filename))
    response.headers["X-Page-Count"] = str(printed.pdf.pages)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def _store():
    return current_app.extensions["fangpin.media"]


@bp.route("/cases/<id:case_id>/print/<any(approval, elimination):form>.pdf")
class CasePrint(MethodView):
    @bp.arguments(PrintArgsSchema, location="query")
    @bp.doc(responses=_PDF)
    @errors(bp, 403, 404, 409)
    @db.writes
    def get(self, args, case_id, form):
        """打印案件的附件3（识别审批表）或附件5（风险消除评估表），一式两份，含已采集的签名"""
        return _pdf(services.print_case(db.session(), _store(), current_user(), case_id,
                                        PrintedForm(form), args["full"]))


@bp.route("/households/<household_id>/print/"
          "<any(application, survey, approval, elimination):form>.pdf")
class HouseholdPrint(MethodView):
    @bp.arguments(PrintArgsSchema, location="query")
    @bp.doc(responses=_PDF)
    @errors(bp, 403, 404, 409)
    @db.writes
    def get(self, args, household_id, form):
        """打印农户的附件1（申请及承诺授权书）、附件2（信息采集表，按最新调查填写），或其最近一个
        案件的附件3/附件5"""
        return _pdf(services.print_household(db.session(), _store(), current_user(),
                                             household_id, PrintedForm(form), args["full"]))


@bp.route("/print/villages/<string(minlength=4, maxlength=15):area_code>/"
          "<any(measures, approval, elimination, application, survey):form>.pdf")
class AreaPrint(MethodView):
    @bp.arguments(AreaPrintArgsSchema, location="query")
    @bp.doc(responses=_PDF)
    @errors(bp, 403, 404, 409)
    def get(self, args, area_code, form):
        """批量打印一个村（或辖区内任一区划）的表格为一个 PDF：附件4 为期间内的公示名单（默认最近
        30 天），附件3/附件5 为期间内办理的案件，附件1/附件2 为全部农户。户数多时（200 户约需
        一分钟）请用 POST …/jobs 在后台生成"""
        start, end, printed = _period(args, form)
        user = current_user()
        made = services.render_area(db.session(), _store(), user, area_code, printed,
                                    args["full"], start, end)
        db.commit()  # the batch was read in a transaction that held no lock; the audit after
        services.audit_area(db.session(), user, made)
        return _pdf(made.printed)


@bp.route("/print/villages/<string(minlength=4, maxlength=15):area_code>/"
          "<any(measures, approval, elimination, application, survey):form>/jobs")
class AreaPrintJob(MethodView):
    @bp.arguments(AreaPrintArgsSchema, location="query")
    @bp.response(202, JobSchema)
    @errors(bp, 403, 404)
    def post(self, args, area_code, form):
        """在后台批量打印（参数同 GET）：立即返回任务，完成后从 /jobs/<id>/file 下载 PDF"""
        start, end, printed = _period(args, form)
        job = print_jobs.submit(db.session(), current_user(), area_code, printed, args["full"],
                                start, end, current_app.extensions["fangpin.jobs"])
        return job_view(job)


def _period(args, form: str):
    start, end = args["from_"], args["to"]
    printed = PrintedForm(form)
    if printed is PrintedForm.MEASURES:
        end = end or today()
        start = start or end - timedelta(days=NOTICE_PERIOD_DAYS)
    return start, end, printed


@bp.route("/print/blank/survey.pdf")
class BlankSurveyPrint(MethodView):
    @bp.arguments(BlankPrintArgsSchema, location="query")
    @bp.doc(responses=_PDF)
    @errors(bp, 404)
    @db.writes
    def get(self, args):
        """打印空白的附件2（信息采集表），供没有手机采集的农户手工填写"""
        return _pdf(services.print_blank(db.session(), current_user(), PrintedForm.SURVEY,
                                         args["area"]))
