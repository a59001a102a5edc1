"""案件 and 公示: the case list with bulk approve / return (township, county), a case's page —
its steps so far, the action the user may take now, objections, the monitoring contact — and a
village's public-notice list (附件4), printable.

The reads and rules are the pipeline's services, called as the REST API calls them
(``server.pipeline.queries``, ``services``, ``signatures``): the area scope (NOT_FOUND outside),
the lock and version of one case action, each case of a bulk action checked on its own. A
refused action shows the rule's Chinese message on the case page, not an error page; a form
posted on a case that has moved since it was read (the version it carries, the same the REST
ETag is made of) shows the case as it is now with a notice.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from marshmallow import ValidationError
from sqlalchemy import func, select

from media.store import MediaNotFound
from media.uploads import UploadedFile
from server import db
from server.areas.queries import VILLAGE_CODE_LENGTH, area_labels, areas_query
from server.clock import local_day, today
from server.console import bp, session
from server.domain import codes
from server.domain.notices import risk_marks
from server.domain.personal import sees_full_id_numbers
from server.domain.pipeline import (
    ACTION_NAMES,
    PROCEDURE_NAMES,
    SIGNER_NAMES,
    STATUS_NAMES,
    STEP_NAMES,
    STEPS,
    Action,
    CaseState,
    Procedure,
    Signer,
    Status,
    Step,
    available_actions,
    required_signers,
)
from server.domain.printed import DOCUMENTS, PrintedForm
from server.errors import AppError
from server.pipeline import queries, services, signatures
from server.pipeline.schemas import (
    CaseActionSchema,
    ContactAssignSchema,
    ObjectionCloseSchema,
    ObjectionCreateSchema,
)
from server.printing import services as printing
from server.rest import file_download

PAGE_SIZE = 50
BULK_ACTIONS = (Action.APPROVE, Action.RETURN)  # what a list may do to many cases at once
SIGNATURE_KEY_LENGTH = 64
_CASE = "/cases/<id:case_id>"
# The phone's signatures are the verification team's too (counted, not a Signer).
SIGNED_AS = {**{s.value: name for s, name in SIGNER_NAMES.items()},
             signatures.TEAM_SIGNER: "核实小组成员"}


@bp.context_processor
def _labels() -> dict:
    return {"procedure_names": PROCEDURE_NAMES, "step_names": STEP_NAMES,
            "status_names": STATUS_NAMES, "action_names": ACTION_NAMES,
            "signed_as": SIGNED_AS, "type_names": dict(_codes(codes.MONITORING_TYPE)),
            "household_url": _household_url}


@bp.app_template_filter("day")
def day(value: date | datetime | None) -> str:
    """A calendar day as the console writes it: 2026-12-04 (a time: its day in
    Asia/Shanghai)."""
    if isinstance(value, datetime):
        value = local_day(value)
    return value.isoformat() if value else "—"


def _codes(table) -> list[tuple[str, str]]:
    return [(item.code, item.label) for item in table.codes]


def _household_url(household_id: str) -> str:
    """The household's page (农户, another module of the console)."""
    return url_for("console.household", household_id=household_id)


# --- the case list, and bulk actions ------------------------------------------------------


@dataclass(frozen=True)
class ListArgs:
    """The list's filters as asked (for the form and the links) and as the service takes
    them (``filters``)."""

    procedure: str
    step: str
    status: str  # "open" by default; "all" for every status
    village: str
    type: str
    overdue: str  # "1" overdue only, "0" not overdue, "" either
    page: int

    @property
    def query(self) -> dict[str, str]:
        """The arguments of this list's URL (without the page)."""
        return {key: value for key, value in (
            ("procedure", self.procedure), ("step", self.step), ("status", self.status),
            ("village", self.village), ("type", self.type), ("overdue", self.overdue))
            if value}

    @property
    def export_filters(self) -> dict[str, str]:
        """The filters as an export's arguments (server/console/exports.py): all but
        ``overdue``, which the exports do not filter by."""
        return {key: str(value) for key, value in self.filters.items() if key != "overdue"}

    @property
    def filters(self) -> dict:
        found: dict = {}
        if self.procedure:
            found["procedure"] = self.procedure
        if self.step:
            found["step"] = self.step
        if self.status != "all":
            found["status"] = self.status
        if self.village:
            found["area_code"] = self.village
        if self.type:
            found["monitoring_type"] = self.type
        if self.overdue:
            found["overdue"] = self.overdue == "1"
        return found


def _list_args(args) -> ListArgs:
    def one_of(name: str, allowed, default: str = "") -> str:
        value = args.get(name, default)
        return value if value in allowed else default

    village = args.get("village", "")
    try:
        page = max(1, min(int(args.get("page", 1)), 10**6))
    except ValueError:
        page = 1
    return ListArgs(
        procedure=one_of("procedure", {p.value for p in Procedure}),
        step=one_of("step", {s.value for s in Step}),
        status=one_of("status", {*(s.value for s in Status), "all"}, Status.OPEN.value),
        village=village if village.isdigit() and 6 <= len(village) <= 15 else "",
        type=one_of("type", codes.MONITORING_TYPE.codes_list()),
        overdue=one_of("overdue", {"1", "0"}), page=page)


def _villages(user) -> list[tuple[str, list]]:
    """The villages the user may filter by, under their townships (none for a user of one
    village: their list is that village's)."""
    if len(user.area_code) >= VILLAGE_CODE_LENGTH:
        return []
    sess = db.session()
    townships = {a.code: a.name for a in sess.scalars(areas_query(user, {"level": "township"}))}
    villages = sess.scalars(areas_query(user, {"level": "village"})).all()
    return [(townships.get(parent, parent), list(found))
            for parent, found in groupby(villages, key=lambda a: a.parent_code)]


def _render_list(args: ListArgs, *, results=None, bulk_error: AppError | None = None,
                 bulk_form: dict | None = None, status: int = 200):
    sess, user, now = db.session(), session.current_user(), today()
    query = queries.cases_query(sess, user, args.filters, now)
    total = sess.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    rows = sess.scalars(query.limit(PAGE_SIZE).offset((args.page - 1) * PAGE_SIZE)).all()
    page = render_template(
        "console/cases.html", args=args, items=queries.case_list(sess, rows, now),
        total=total, pages=pages, villages=_villages(user),
        procedures=list(Procedure), steps=list(Step), statuses=list(Status),
        types=_codes(codes.MONITORING_TYPE),
        can_bulk=user.role in services.BULK_ROLES, bulk_actions=BULK_ACTIONS,
        results=results, bulk_error=bulk_error, bulk_form=bulk_form or {})
    return page, status


@bp.get("/cases")
@session.login_required()
def cases():
    return _render_list(_list_args(request.args))


@dataclass(frozen=True)
class BulkResult:
    case_id: int
    ok: bool
    step: str | None
    status: str | None
    error: AppError | None


@bp.post("/cases/bulk")
@session.login_required(*services.BULK_ROLES)
def cases_bulk():
    """Approve or return the selected cases (the REST bulk action's service): each case is
    checked by the rules and logged on its own; the answer lists each one's outcome."""
    args = _list_args(request.args)
    form = {"action": request.form.get("action", ""),
            "opinion": request.form.get("opinion", "").strip()}
    ids = []
    for raw in request.form.getlist("case_id"):
        if raw.isdigit() and 0 < int(raw) < 2**31:
            ids.append(int(raw))
    if form["action"] not in {a.value for a in BULK_ACTIONS}:
        return _render_list(args, bulk_error=AppError("CASE_ACTION_REQUIRED"), bulk_form=form,
                            status=400)
    if not ids:
        return _render_list(args, bulk_error=AppError("BULK_NONE_SELECTED"), bulk_form=form,
                            status=400)
    try:
        outcomes = services.bulk_act(db.session(), ids, Action(form["action"]),
                                     session.current_user(), today(), form["opinion"][:2000])
    except AppError as error:
        if error.code != "BULK_TOO_MANY":
            raise
        return _render_list(args, bulk_error=error, bulk_form=form, status=error.status)
    results = [BulkResult(o.case_id, o.error is None, o.case.step if o.case else None,
                          o.case.status if o.case else None, o.error) for o in outcomes]
    return _render_list(args, results=results, bulk_form=form)


# --- one case -----------------------------------------------------------------------------


def _case_page(case_id: int, *, status: int = 200, changed: bool = False,
               errors: dict | None = None, form: dict | None = None):
    """The case's page as it stands now; ``errors`` by section (``action``, ``objection``,
    ``objection_<id>``, ``contact``, or a field of a form) and ``form`` the values to keep."""
    sess, user, now = db.session(), session.current_user(), today()
    case = queries.readable_case(sess, user, case_id)
    view = queries.case_view(sess, case, now)
    household = queries.case_households(sess, [case.household_id] if case.household_id
                                        else []).get(case.household_id or "")
    state = CaseState(Procedure(case.procedure), Step(case.step), Status(case.status),
                      case.notice_started)
    actions = available_actions(state, user.role)
    events = services.case_events(sess, case)
    found = signatures.case_signatures(sess, case)
    contacts = services.household_contacts(sess, case)
    printed = PRINTED_FOR[Procedure(case.procedure)] if case.household_id else None
    page = render_template(
        "console/case.html", case=view, household=household,
        printed=printed, printed_document=DOCUMENTS[printed] if printed else None,
        prints_full=sees_full_id_numbers(user.role),
        area_name=area_labels(sess, [case.area_code])[case.area_code],
        origin=codes.CASE_ORIGIN.label(case.origin) if case.origin in codes.CASE_ORIGIN
        else None,
        steps=STEPS[Procedure(case.procedure)], events=events,
        entries=services.signature_entries, version=services.case_version(sess, case),
        actions=actions, signers=required_signers(state.procedure, state.step),
        phone_signatures=[s for s in found if s.source == "submission"],
        objections=services.case_objections(sess, case),
        contacts=contacts, current_contact=next((c for c in contacts if c.replaced_at is None),
                                                None),
        manages=user.role in services.MANAGING_ROLES, changed=changed,
        errors=errors or {}, form=form or {})
    return page, status


@bp.get(_CASE)
@session.login_required()
def case(case_id: int):
    return _case_page(case_id)


def _uploads(part: str) -> list[UploadedFile]:
    """The files of a multipart part, leaving out the empty ones a browser sends for a file
    input nobody filled."""
    return [UploadedFile(f.filename, f.stream, f.mimetype)
            for f in request.files.getlist(part) if f.filename]


def _field_errors(invalid: ValidationError) -> dict[str, str]:
    return {field: "；".join(messages) if isinstance(messages, list) else str(messages)
            for field, messages in invalid.messages.items()}


@bp.post(f"{_CASE}/act")
@session.login_required()
def case_act(case_id: int):
    """Approve, return or reject the case's step, with the signatures by signer
    (``signature_<signer>``) and the attachments (``attachment``) the REST action takes, if
    the case is still at the version the form was made from. (The body's size was limited
    before the CSRF check read it: ``server.console._check_csrf``.)"""
    form = {"action": request.form.get("action", ""), "opinion": request.form.get("opinion", "")}
    try:
        data = CaseActionSchema().load(form)
    except ValidationError as invalid:
        errors = _field_errors(invalid)
        error = AppError("CASE_ACTION_REQUIRED") if "action" in errors else None
        return _case_page(case_id, status=400, form=form,
                          errors={"action": error or errors.get("opinion", "")})
    sess, user, now = db.session(), session.current_user(), today()
    case = services.lock_case(sess, case_id, user)
    if request.form.get("version") != str(services.case_version(sess, case)):
        return _case_page(case_id, status=AppError("CASE_CHANGED").status, changed=True)
    signed = [(signer.value, upload) for signer in Signer
              for upload in _uploads(f"signature_{signer.value}")]
    try:
        signatures.act_signed(sess, current_app.extensions["fangpin.media"], case,
                              Action(data["action"]), user, now, data["opinion"],
                              _uploads("signature"), _uploads("attachment"), signed)
    except AppError as refused:
        return _case_page(case_id, status=refused.status, form=form,
                          errors={"action": refused})
    flash(f"已{ACTION_NAMES[Action(data['action'])]}：案件 {case.id} 现为"
          f"“{STEP_NAMES[Step(case.step)]}”（{STATUS_NAMES[Status(case.status)]}）。", "success")
    return redirect(url_for("console.case", case_id=case_id))


@bp.post(f"{_CASE}/objections")
@session.login_required()
def case_objection(case_id: int):
    """Record an objection raised during the public notice."""
    form = {"text": request.form.get("text", "")}
    try:
        data = ObjectionCreateSchema().load(form)
        services.raise_objection(db.session(), case_id, session.current_user(), data["text"])
    except ValidationError as invalid:
        return _case_page(case_id, status=400, form=form,
                          errors={"objection": _field_errors(invalid).get("text", "")})
    except AppError as refused:
        if refused.code == "NOT_FOUND":
            raise
        return _case_page(case_id, status=refused.status, form=form,
                          errors={"objection": refused})
    flash("已登记异议：公示结束前须核实办结。", "success")
    return redirect(url_for("console.case", case_id=case_id, _anchor="objections"))


@bp.post(f"{_CASE}/objections/<id:objection_id>/close")
@session.login_required()
def case_objection_close(case_id: int, objection_id: int):
    """Close an objection with the result of its investigation (village and above)."""
    form = {"result": request.form.get("result", "")}
    key = f"objection_{objection_id}"
    try:
        data = ObjectionCloseSchema().load(form)
        services.close_objection(db.session(), objection_id, session.current_user(),
                                 data["result"], case_id=case_id)
    except ValidationError as invalid:
        return _case_page(case_id, status=400, form={key: form["result"]},
                          errors={key: _field_errors(invalid).get("result", "")})
    except AppError as refused:
        if refused.code == "NOT_FOUND":
            raise
        return _case_page(case_id, status=refused.status, form={key: form["result"]},
                          errors={key: refused})
    flash("异议已核实办结。", "success")
    return redirect(url_for("console.case", case_id=case_id, _anchor="objections"))


@bp.post(f"{_CASE}/contacts")
@session.login_required()
def case_contact(case_id: int):
    """Pair the household with its monitoring contact, or replace them with a reason."""
    form = {key: request.form.get(key, "").strip()
            for key in ("name", "unit", "position", "phone", "reason")}
    case = queries.readable_case(db.session(), session.current_user(), case_id)
    try:
        data = ContactAssignSchema().load({**form, "phone": form["phone"] or None})
        if case.household_id is None:
            raise AppError("CASE_NO_HOUSEHOLD")
        services.assign_contact(db.session(), case.household_id, session.current_user(),
                                data["name"], data["unit"], data["position"], data["phone"],
                                data["reason"])
    except ValidationError as invalid:
        return _case_page(case_id, status=400, form=form, errors=_field_errors(invalid))
    except AppError as refused:
        return _case_page(case_id, status=refused.status, form=form,
                          errors={"contact": refused})
    flash("监测帮扶联系人已落实。", "success")
    return redirect(url_for("console.case", case_id=case_id, _anchor="contact"))


@bp.get(f"{_CASE}/signatures/<string(length=64):key>")
@session.login_required()
def case_signature(case_id: int, key: str):
    """One of the case's signature images (and no other file of the media store)."""
    case = queries.readable_case(db.session(), session.current_user(), case_id)
    content_type = signatures.signature_content_type(db.session(), case, key)
    try:
        stream = current_app.extensions["fangpin.media"].open(key)
    except MediaNotFound as exc:
        raise AppError("NOT_FOUND") from exc
    return send_file(stream, mimetype=content_type, download_name=key, max_age=0)


@bp.get(f"{_CASE}/attachments/<string(length=64):key>")
@session.login_required()
@db.writes
def case_attachment(case_id: int, key: str):
    """Download one of the documents uploaded with the case's actions (audited, as over the
    REST API: it is personal data leaving the server)."""
    case = queries.readable_case(db.session(), session.current_user(), case_id)
    attachment = signatures.download_attachment(db.session(), case, key,
                                                session.current_user())
    store = current_app.extensions["fangpin.media"]
    try:
        size = store.size(key)
        stream = store.open(key)
    except MediaNotFound as exc:
        raise AppError("NOT_FOUND") from exc
    return file_download(stream, size, attachment["content_type"], attachment["name"])


# --- a village's public-notice list ---------------------------------------------------------

NOTICE_PERIOD_DAYS = 30  # the period shown when none is asked: the last 30 days
# The numbered risks under the list; ① names the line without its figure (data, per year).
RISK_LEGEND = [(codes.NUMBERED_RISK_MARKS[item.code],
                "人均纯收入低于监测范围基准线" if item.code == "1" else item.label)
               for item in codes.NUMBERED_RISKS.codes]


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@bp.get("/notices")
@session.login_required()
def notices():
    """公示: the public notices of a village that ran in a period (附件4 style, printable)."""
    user, now = session.current_user(), today()
    village = request.args.get("village", "")
    if not village and len(user.area_code) >= VILLAGE_CODE_LENGTH:
        village = user.area_code  # a user of one village (or of a group in it)
    end = _day(request.args.get("to")) or now
    start = _day(request.args.get("from")) or end - timedelta(days=NOTICE_PERIOD_DAYS)
    if start > end:
        start, end = end, start
    listed = None
    if village:
        if not village.isdigit():
            raise AppError("NOT_FOUND")
        listed = queries.notice_list(db.session(), user, village, start, end)
    return render_template("console/notices.html", listed=listed, village=village,
                           start=start, end=end, villages=_villages(user),
                           risk_marks=risk_marks, risk_legend=RISK_LEGEND)


# --- the printed forms (server.printing, the REST API's same service) -----------------------

PRINTED_FOR = {Procedure.IDENTIFICATION: PrintedForm.APPROVAL,
               Procedure.ELIMINATION: PrintedForm.ELIMINATION}


def _pdf(printed: printing.Printed):
    return file_download(io.BytesIO(printed.content), len(printed.content), "application/pdf",
                         printed.filename)


@bp.get(f"{_CASE}/print.pdf")
@db.writes
@session.login_required()
def case_print(case_id: int):
    """The case's 附件3 (identification) or 附件5 (risk elimination), both copies, as PDF;
    ``full=1`` prints full numbers (county and admin only), audited like every print."""
    sess, user = db.session(), session.current_user()
    case = queries.readable_case(sess, user, case_id)
    printed = printing.print_case(sess, current_app.extensions["fangpin.media"], user, case.id,
                                  PRINTED_FOR[Procedure(case.procedure)],
                                  request.args.get("full") == "1")
    return _pdf(printed)


@bp.get("/notices/print.pdf")
@db.writes
@session.login_required()
def notices_print():
    """The village's public-notice sheets of the period (附件4) as PDF: the list the notices
    page shows, printed by the same service as the REST API's."""
    user, now = session.current_user(), today()
    village = request.args.get("village", "")
    if not village.isdigit():
        raise AppError("NOT_FOUND")
    end = _day(request.args.get("to")) or now
    start = _day(request.args.get("from")) or end - timedelta(days=NOTICE_PERIOD_DAYS)
    if start > end:
        start, end = end, start
    return _pdf(printing.print_area(db.session(), current_app.extensions["fangpin.media"], user,
                                    village, PrintedForm.MEASURES,
                                    request.args.get("full") == "1", start, end))
