"""The demo's story: a year of work in two villages of 衡阳县, so that every page of the console
has something to show — households surveyed, cases at every step of both procedures (some
overdue, some with objections), monitoring objects with evaluations and measures, households
whose risk was eliminated, conflicts, a likely duplicate, a submission for review, a department
warning list with its tasks.

Everything goes through the real services, as the phones and the staff would: each survey,
measure, elimination assessment and self-declaration is an ODK submission (``ingest_submission``,
then ``take_in``), each step of a case an action of ``server.pipeline`` with the signatures the
step's document needs, the warning list an upload to ``server.screening``. Each thing is done on
its own day in the past: the story runs under ``server.clock.shifted``, so that cases have their
ages and their months. Names, ID numbers (valid GB 11643 check characters), incomes, photos and
signature images are made up, the same on every run (a seeded random generator).

The step deadlines of the demo's province are set too (``DEMO_DEADLINES``): the source sets
none (SPEC §6, empty as shipped), and without any no case is ever overdue. They are examples,
marked so in their ``document``.
"""

from __future__ import annotations

import io
import random
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from media.store import MediaStore
from media.uploads import UploadedFile
from server import clock
from server.auth import Principal
from server.domain import fields
from server.domain.codes import NO, YES
from server.domain.deadlines import StepDeadline
from server.domain.idnumber import check_character
from server.domain.pipeline import Action, Procedure, Step, required_signers
from server.figures.services import set_step_deadline
from server.forms.models import FormVersion
from server.households.models import Household
from server.intake import take_in
from server.monitoring.services import record_evaluation
from server.pipeline.models import Case
from server.pipeline.services import (
    assign_contact,
    close_objection,
    lock_case,
    open_case,
    raise_objection,
)
from server.pipeline.signatures import act_signed
from server.screening.models import WarningRow
from server.screening.services import import_warning_list, record_check
from server.submissions.models import Submission
from server.submissions.services import ingest_submission

NAMESPACE = uuid.UUID("5b0f1c7e-2d1a-4c55-9a0e-64656d6f0001")  # the demo's instance IDs
FIRST_INSTANCE = str(uuid.uuid5(NAMESPACE, "household/v1-01/1"))  # the first submission
DEADLINE_DOCUMENT = "演示数据：示例办理时限（源文件未规定）"
DEMO_DEADLINES = (  # (procedure, step or None for the whole procedure, working days)
    (Procedure.IDENTIFICATION, Step.APPLICATION, 5),
    (Procedure.IDENTIFICATION, Step.VERIFICATION, 10),
    (Procedure.IDENTIFICATION, Step.VILLAGE_REVIEW, 10),
    (Procedure.IDENTIFICATION, Step.TOWNSHIP_REVIEW, 5),
    (Procedure.IDENTIFICATION, Step.COUNTY_APPROVAL, 10),
    (Procedure.ELIMINATION, Step.PROPOSAL, 5),
    (Procedure.ELIMINATION, Step.VERIFICATION, 10),
    (Procedure.ELIMINATION, Step.VILLAGE_REVIEW, 10),
    (Procedure.ELIMINATION, Step.TOWNSHIP_REVIEW, 5),
    (Procedure.ELIMINATION, Step.COUNTY_APPROVAL, 10),
)
# Days from one step's approval to the next (the notice: its 7 full days, closed on the 8th).
IDENTIFICATION_GAPS = {Step.APPLICATION: 1, Step.VERIFICATION: 3, Step.VILLAGE_REVIEW: 3,
                       Step.PUBLIC_NOTICE: 8, Step.TOWNSHIP_REVIEW: 2, Step.COUNTY_APPROVAL: 3}
ELIMINATION_GAPS = {Step.PROPOSAL: 1, Step.VERIFICATION: 2, Step.VILLAGE_REVIEW: 3,
                    Step.PUBLIC_NOTICE: 8, Step.TOWNSHIP_REVIEW: 2, Step.COUNTY_APPROVAL: 2}
ACTORS = {Step.APPLICATION: "helper", Step.PROPOSAL: "village", Step.VERIFICATION: "helper",
          Step.VILLAGE_REVIEW: "village", Step.PUBLIC_NOTICE: "village",
          Step.TOWNSHIP_REVIEW: "township", Step.COUNTY_APPROVAL: "county"}
OPINIONS = {
    Step.APPLICATION: "户主提出申请，已签署承诺授权书（附件1）",
    Step.PROPOSAL: "村两委和驻村工作队提名，拟消除风险",
    Step.VERIFICATION: "核实小组入户核实，情况属实",
    Step.VILLAGE_REVIEW: "村民主评议通过，进入公示",
    Step.PUBLIC_NOTICE: "公示 7 天期满，无异议",
    Step.TOWNSHIP_REVIEW: "乡镇审核通过，报县级审定",
    Step.COUNTY_APPROVAL: "县级比对审定通过",
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡"
MALE = "伟强磊军勇杰涛明超刚平辉建国志华斌鹏飞波宇浩峰林俊文龙海东亮成德正新永春金生"
FEMALE = "芳娜敏静丽艳娟霞秀玲桂英红梅兰琴燕萍慧婷雪琳晶倩颖洁玉凤花云莉丹香月"
UNITS = ("县乡村振兴局", "县农业农村局", "县人力资源和社会保障局", "县卫生健康局", "县教育局")
POSITIONS = ("干部", "副主任科员", "驻村工作队队员", "股长")


class StoryError(RuntimeError):
    """A service refused a step of the story: the demo no longer fits the rules."""


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    birth: date
    male: bool
    relation: str


@dataclass
class Family:
    key: str  # "v1-03": village 1, household 3
    village: int  # 0 or 1: which of the two demo villages
    area: str  # its 村民小组
    members: list[Person]
    phone: str
    kind: str  # A3: 01 脱贫不稳定户, 02 边缘易致贫户, 03 突发严重困难户
    risks: list[str]  # A27 codes
    per_capita: int  # about what A34 comes to
    household_id: str | None = None
    case_id: int | None = None

    @property
    def head(self) -> Person:
        return self.members[0]


@dataclass
class Cast:
    """The demo users of each village (0: 洪罗庙社区 of 洪市镇; 1: the first village of 岣嵝乡)."""

    helper: list[Principal]
    village: list[Principal]
    township: list[Principal]
    county: Principal

    def of(self, role: str, village: int) -> Principal:
        return self.county if role == "county" else getattr(self, role)[village]


@dataclass
class Story:
    session: Session
    store: MediaStore
    cast: Cast
    areas: list[str]  # the two villages' first 村民小组
    rng: random.Random = field(default_factory=lambda: random.Random(20261205))
    versions: dict[str, str] = field(default_factory=dict)
    used_ids: set[str] = field(default_factory=set)
    submissions: int = 0

    # --- the clock -------------------------------------------------------------------------

    @contextmanager
    def on(self, days_ago: int) -> Iterator[date]:
        """Run the block ``days_ago`` days before now; yields that day."""
        with clock.shifted(-timedelta(days=days_ago)):
            yield clock.today()

    # --- made-up people, images ------------------------------------------------------------

    def person(self, relation: str, male: bool, born: int, surname: str) -> Person:
        while True:
            birth = date(born, self.rng.randint(1, 12), self.rng.randint(1, 28))
            sequence = 2 * self.rng.randrange(500) + (1 if male else 0)
            body = f"430421{birth:%Y%m%d}{sequence:03d}"
            number = body + check_character(body)
            if number not in self.used_ids:
                self.used_ids.add(number)
                break
        given = self.rng.choice(MALE if male else FEMALE)
        if self.rng.random() < 0.6:
            given += self.rng.choice(MALE if male else FEMALE)
        return Person(surname + given, number, birth, male, relation)

    def family(self, key: str, village: int, size: int, kind: str, risks: list[str],
               per_capita: int) -> Family:
        surname = self.rng.choice(SURNAMES)
        head_born = self.rng.randint(1956, 1985)
        members = [self.person("01", self.rng.random() < 0.85, head_born, surname)]
        if size >= 2:
            members.append(self.person("02", not members[0].male, head_born
                                       + self.rng.randint(-4, 4), self.rng.choice(SURNAMES)))
        while len(members) < size:
            male = self.rng.random() < 0.5
            if head_born < 1962 and len(members) == 2:
                members.append(self.person("03" if male else "04", male,
                                           head_born + self.rng.randint(24, 30), surname))
            else:
                members.append(self.person("03" if male else "04", male,
                                           self.rng.randint(max(head_born + 22, 2008), 2020),
                                           surname))
        phone = f"1{self.rng.choice('3578')}{self.rng.randrange(10**9):09d}"
        return Family(key, village, self.areas[village], members, phone, kind, risks,
                      per_capita)

    def signature_png(self) -> bytes:
        """A scribble, as a signature drawn on a phone's screen looks."""
        image = Image.new("L", (360, 120), 255)
        draw = ImageDraw.Draw(image)
        x, y = self.rng.randint(20, 40), self.rng.randint(50, 70)
        for _ in range(self.rng.randint(3, 5)):
            points = [(x, y)]
            for _ in range(self.rng.randint(5, 9)):
                x = min(340, x + self.rng.randint(6, 22))
                y = max(15, min(105, y + self.rng.randint(-28, 28)))
                points.append((x, y))
            draw.line(points, fill=self.rng.randint(10, 60), width=3, joint="curve")
            x += self.rng.randint(4, 14)
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()

    def photo_jpeg(self, kind: str) -> bytes:
        """A plain picture standing for a photo: a house, or a document on a table."""
        image = Image.new("RGB", (640, 480), (170 + self.rng.randint(0, 60), 200, 230))
        draw = ImageDraw.Draw(image)
        if kind == "house":
            draw.rectangle((0, 330, 640, 480), fill=(90 + self.rng.randint(0, 40), 140, 70))
            left = self.rng.randint(120, 260)
            wall = (220, 210 - self.rng.randint(0, 40), 190)
            draw.rectangle((left, 200, left + 260, 360), fill=wall, outline=(80, 70, 60))
            draw.polygon([(left - 20, 205), (left + 130, 120), (left + 280, 205)],
                         fill=(120 + self.rng.randint(0, 60), 60, 50))
            draw.rectangle((left + 110, 280, left + 150, 360), fill=(100, 70, 40))
        else:
            draw.rectangle((0, 0, 640, 480), fill=(150, 120, 90))
            draw.rectangle((140, 70, 500, 420), fill=(238, 232, 215), outline=(60, 60, 60))
            for row in range(8):
                width = self.rng.randint(160, 300)
                draw.line((170, 120 + 35 * row, 170 + width, 120 + 35 * row),
                          fill=(90, 90, 110), width=4)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=70)
        return out.getvalue()

    # --- submissions --------------------------------------------------------------------------

    def submit(self, user: Principal, form_id: str, name: str, values: dict,
               files: dict[str, tuple[bytes, str]], today: date,
               expect: str | tuple[str, ...] = "applied") -> Submission:
        """One form sent from a phone and taken in: ``values`` by field name, dicts for
        groups and lists for repeats; ``files`` the attachments it names."""
        root = ET.Element("data", {"id": form_id, "version": self.versions[form_id]})
        for key, value in values.items():
            _add(root, key, value)
        meta = ET.SubElement(root, "meta")
        instance_id = f"uuid:{uuid.uuid5(NAMESPACE, f'{form_id}/{name}')}"
        ET.SubElement(meta, "instanceID").text = instance_id
        xml = b"<?xml version='1.0' encoding='UTF-8' ?>\n" + ET.tostring(root, "utf-8")
        uploads = [UploadedFile(file_name, io.BytesIO(content), content_type)
                   for file_name, (content, content_type) in files.items()]
        result = ingest_submission(self.session, self.store, user, xml, uploads,
                                   device_id="collect:demo")
        state = take_in(self.session, result.submission_id, today)
        submission = self.session.get(Submission, result.submission_id)
        if state not in ((expect,) if isinstance(expect, str) else expect):
            raise StoryError(f"{form_id} {name}: {state} {submission.problems}")
        self.submissions += 1
        return submission

    def survey(self, family: Family, days_ago: int, *, name: str = "1",
               resurvey: bool = False, members: list[Person] | None = None,
               expect: str = "applied", reason: dict[str, str] | None = None) -> Submission:
        """The household form (附件2 with 附件1): the roster, the A-fields, photos, the GPS
        point, the applicant's and the verification team's signatures."""
        roster = family.members if members is None else members
        with self.on(days_ago) as today:
            size = len(roster)
            total = family.per_capita * size
            wages = round(total * 0.7, -2)
            values = {
                "visit_date": today.isoformat(), "resurvey": YES if resurvey else NO,
                **({"household": family.household_id} if resurvey else {}),
                "address": {"addr_county": family.area[:6], "addr_township": family.area[:9],
                            "addr_village": family.area[:12], "addr_group": family.area},
                "phone": family.phone, fields.RESETTLEMENT_SITE.name: NO,
                fields.MONITORING_TYPE.name: family.kind,
                fields.FORMERLY_POOR.name: YES if family.kind == "01" else NO,
                "members": [self._member(p, today, family, reason) for p in roster],
                fields.HOUSING_UNSAFE.name: YES if "h" in family.risks else NO,
                fields.SCHOOL_DROPOUT.name: NO, fields.WATER_UNSAFE.name: NO,
                fields.RISK_TYPES.name: " ".join(r for r in family.risks if r != "h"),
                "severe_difficulty": YES if family.kind == "03" else NO,
                fields.WAGES.name: f"{wages:.0f}",
                fields.BUSINESS_INCOME.name: f"{total - wages + 600:.0f}",
                fields.PROPERTY_INCOME.name: "0", fields.TRANSFER_INCOME.name: "1200",
                fields.BUSINESS_EXPENSES.name: "1800",
                fields.INSURANCE_CLAIMS.name: "3000" if "01" in family.risks else "0",
                fields.COMPLIANT_OUT_OF_POCKET.name: f"{(family.per_capita + 3000) * size:.0f}"
                if family.kind == "03" else "1500",
                "photo_hukou": "hukou.jpg", "id_photos": [{"photo_id_card": "id.jpg"}],
                "photo_house": "house.jpg",
                "visit_location": f"{26.95 + self.rng.random() * 0.3:.5f} "
                                  f"{112.25 + self.rng.random() * 0.3:.5f} 85 6",
                fields.CONTACT_NAME.name: self.cast.helper[family.village].username,
                fields.CONTACT_PHONE.name: "0734-6812345",
                "applicant_can_sign": YES, "sig_applicant": "sig.png", "team_count": "2",
                "team": [{"team_member_name": name, "team_member_role": role,
                          "team_signature": f"t{n}.png"}
                         for n, (name, role) in enumerate((("赵建国", "01"), ("钱志华", "03")),
                                                          start=1)],
            }
            if "09" in family.risks:
                values[fields.OTHER_TEXT.name] = "房屋年久失修"
            files = {"hukou.jpg": (self.photo_jpeg("document"), "image/jpeg"),
                     "id.jpg": (self.photo_jpeg("document"), "image/jpeg"),
                     "house.jpg": (self.photo_jpeg("house"), "image/jpeg"),
                     "sig.png": (self.signature_png(), "image/png"),
                     "t1.png": (self.signature_png(), "image/png"),
                     "t2.png": (self.signature_png(), "image/png")}
            submission = self.submit(self.cast.helper[family.village], "household",
                                     f"{family.key}/{name}", values, files, today, expect)
        if expect == "applied":
            family.household_id = submission.household_id
        return submission

    def _member(self, person: Person, today: date, family: Family,
                reason: dict[str, str] | None) -> dict:
        age = today.year - person.birth.year - (
            (today.month, today.day) < (person.birth.month, person.birth.day))
        working = 18 <= age <= 60
        if age < 6:
            skill, schooling, education = "04", "01", "01"
        elif age < 16:
            skill, schooling, education = "04", "03", "02"
        elif age > 60:
            skill, schooling, education = "05", "99", "02"
        else:
            skill, schooling, education = "01", "99", "03"
        ill = "01" in family.risks and person.relation == "01"
        values = {
            fields.NAME.name: person.name, "has_id_card": YES,
            fields.ID_NUMBER.name: person.id_number,
            fields.RELATION.name: person.relation, fields.ETHNICITY.name: "01",
            fields.POLITICAL_STATUS.name: "06", fields.EDUCATION.name: education,
            fields.SCHOOLING.name: schooling, fields.HEALTH.name: "03" if ill else "01",
            fields.LABOUR_SKILL.name: "05" if ill and working else skill,
            fields.WORK_AREA.name: "2" if working else "9",
            fields.WORK_MONTHS.name: "6" if working else "0",
            fields.BASIC_MEDICAL_INSURANCE.name: YES, fields.SERIOUS_ILLNESS_INSURANCE.name: YES,
            fields.BASIC_PENSION.name: YES if age >= 16 else NO,
            fields.MINIMUM_LIVING_ALLOWANCE.name: YES if family.kind == "01" else NO,
            fields.EXTREME_POVERTY_SUPPORT.name: NO, fields.RELOCATED.name: NO, "deceased": NO,
        }
        if working:
            values[fields.WORK_PLACE.name] = "湖南省长沙市"
        values.update((reason or {}).get(person.id_number, {}))
        return values

    def assessment(self, family: Family, today: date) -> Submission:
        """The risk-elimination form (附件4/附件5): income now, the four standards met, the
        team's and the household head's signatures."""
        size = len(family.members)
        values = {
            "household": family.household_id, "visit_date": today.isoformat(),
            "household_size": str(size), fields.WAGES.name: str(9800 * size),
            fields.BUSINESS_INCOME.name: "3000", fields.PROPERTY_INCOME.name: "0",
            fields.TRANSFER_INCOME.name: "1500", fields.BUSINESS_EXPENSES.name: "1000",
            fields.INSURANCE_CLAIMS.name: "0", fields.COMPLIANT_OUT_OF_POCKET.name: "0",
            "std_measures_carried_out": YES, "std_basic_needs_secured": YES,
            "std_income_stable": YES, "std_rigid_expenses_resolved": YES,
            fields.ELIMINATION_METHOD.name: "01",
            "team": [{"team_signature": "t1.png"}, {"team_signature": "t2.png"}],
            "confirmation": {"sig_head": "head.png"},
        }
        files = {name: (self.signature_png(), "image/png")
                 for name in ("t1.png", "t2.png", "head.png")}
        return self.submit(self.cast.helper[family.village], "elimination",
                           f"{family.key}/assessment", values, files, today)

    def measures(self, family: Family, days_ago: int) -> None:
        with self.on(days_ago) as today:
            self.submit(self.cast.helper[family.village], "measures", f"{family.key}/measures",
                        {"household": family.household_id, "measure_date": today.isoformat(),
                         "green_channel": NO, fields.INDUSTRY.name: "01 03",
                         fields.EMPLOYMENT.name: "01",
                         fields.HEALTH_ASSISTANCE.name: "01" if "01" in family.risks else "02"},
                        {}, today)

    def declaration(self, family: Family, days_ago: int) -> None:
        """农户自主申报 of a registered household: it opens the identification case."""
        with self.on(days_ago) as today:
            self.submit(self.cast.helper[family.village], "declaration", family.key, {
                "decl_date": today.isoformat(), "decl_channel": "01", "decl_on_behalf": NO,
                "decl_head_name": family.head.name,
                "decl_head_id_number": family.head.id_number,
                "decl_household_size": str(len(family.members)),
                "address": {"addr_county": family.area[:6], "addr_township": family.area[:9],
                            "addr_village": family.area[:12], "addr_group": family.area},
                "decl_risks": "6", "decl_description": "户主突发疾病住院，医疗支出大",
                "commitment": {"sig_applicant": "sig.png"}},
                {"sig.png": (self.signature_png(), "image/png")}, today)
            family.case_id = self.session.scalar(
                select(Case.id).where(Case.household_id == family.household_id,
                                      Case.status == "open"))

    # --- cases ------------------------------------------------------------------------------

    def identification(self, family: Family, *, done_days_ago: int | None = None,
                       stop: Step | None = None, entered_days_ago: int = 0,
                       origin: str = "02") -> Case:
        """The identification run step by step up to ``stop`` (entered ``entered_days_ago``)
        or to the county's approval ``done_days_ago``."""
        return self._run(family, Procedure.IDENTIFICATION, IDENTIFICATION_GAPS, done_days_ago,
                         stop, entered_days_ago, origin)

    def elimination(self, family: Family, *, done_days_ago: int | None = None,
                    stop: Step | None = None, entered_days_ago: int = 0) -> Case:
        return self._run(family, Procedure.ELIMINATION, ELIMINATION_GAPS, done_days_ago, stop,
                         entered_days_ago, None)

    def _run(self, family: Family, procedure: Procedure, gaps: dict[Step, int],
             done_days_ago: int | None, stop: Step | None, entered_days_ago: int,
             origin: str | None) -> Case:
        steps = list(gaps)
        before = steps if stop is None else steps[:steps.index(stop)]
        day = (done_days_ago if stop is None else entered_days_ago) + sum(gaps[s]
                                                                           for s in before)
        opener = "village" if procedure is Procedure.ELIMINATION else "helper"
        with self.on(day) as today:
            if family.case_id is None:
                case = open_case(self.session, procedure, family.area,
                                 self.cast.of(opener, family.village), family.household_id,
                                 origin=origin, today=today)
                family.case_id = case.id
            if procedure is Procedure.ELIMINATION:
                self.assessment(family, today)
        for step in before:
            day -= gaps[step]
            self.approve(family, procedure, step, day)
        case = self.session.get(Case, family.case_id)
        if stop is None:
            family.case_id = None
        return case

    def approve(self, family: Family, procedure: Procedure, step: Step, days_ago: int) -> None:
        """The step's approval by its role, with the signatures its document asks for (and a
        photo of the notice board when the notice ends)."""
        user = self.cast.of(ACTORS[step], family.village)
        with self.on(days_ago) as today:
            if step is Step.TOWNSHIP_REVIEW and procedure is Procedure.IDENTIFICATION:
                self.contact(family, user)
            signed = [(signer.value, UploadedFile(f"{signer.value}.png",
                                                  io.BytesIO(self.signature_png()),
                                                  "image/png"))
                      for signer in required_signers(procedure, step)]
            attachments = [UploadedFile("公示照片.jpg", io.BytesIO(self.photo_jpeg("document")),
                                        "image/jpeg")] if step is Step.PUBLIC_NOTICE else []
            case = lock_case(self.session, family.case_id, user)
            act_signed(self.session, self.store, case, Action.APPROVE, user, today,
                       OPINIONS[step], [], attachments, signed)

    def contact(self, family: Family, user: Principal) -> None:
        """The 监测帮扶联系人 the county's approval needs (paired at the township's review)."""
        surname = self.rng.choice(SURNAMES)
        assign_contact(self.session, family.household_id, user,
                       surname + self.rng.choice(MALE + FEMALE) + self.rng.choice(MALE),
                       self.rng.choice(UNITS), self.rng.choice(POSITIONS),
                       f"139{self.rng.randrange(10**8):08d}")

    def reject(self, family: Family, days_ago: int, reason: str) -> None:
        user = self.cast.of("village", family.village)
        with self.on(days_ago) as today:
            case = lock_case(self.session, family.case_id, user)
            act_signed(self.session, self.store, case, Action.REJECT, user, today, reason, [])
        family.case_id = None

    def objection(self, family: Family, days_ago: int, text: str,
                  closed_days_ago: int | None = None, result: str = "") -> None:
        user = self.cast.of("village", family.village)
        with self.on(days_ago):
            objection = raise_objection(self.session, family.case_id, user, text)
        if closed_days_ago is not None:
            with self.on(closed_days_ago):
                close_objection(self.session, objection.id, user, result)

    def evaluate(self, family: Family, days_ago: int, result: str) -> None:
        user = self.cast.of("village", family.village)
        with self.on(days_ago) as today:
            record_evaluation(self.session, user, family.household_id, today,
                              f"{user.username}（村两委）", result, today)


def _add(parent: ET.Element, name: str, value) -> None:
    if isinstance(value, list):
        for item in value:
            _add(parent, name, item)
    elif isinstance(value, dict):
        group = ET.SubElement(parent, name)
        for key, inner in value.items():
            _add(group, key, inner)
    else:
        ET.SubElement(parent, name).text = str(value)


def told(session: Session) -> bool:
    """Whether the story is in the database already (the demo is run again)."""
    return session.scalar(select(Submission.id).where(
        Submission.instance_id == f"uuid:{FIRST_INSTANCE}")) is not None


def tell(session: Session, store: MediaStore, cast: Cast, villages: list[str]) -> dict:
    """Write the story into the database (once); returns what it made, for the printout."""
    areas = [f"{village}001" for village in villages]
    story = Story(session, store, cast, areas)
    for form_id in ("household", "measures", "elimination", "declaration"):
        story.versions[form_id] = session.scalar(
            select(FormVersion.version).where(FormVersion.form_id == form_id)
            .order_by(FormVersion.id.desc()).limit(1))
    with story.on(400):
        for procedure, step, days in DEMO_DEADLINES:
            set_step_deadline(session, StepDeadline(villages[0][:2], procedure, step, days,
                                                    DEADLINE_DOCUMENT), cast.county.id)

    # The households: (key, village, size, A3 type, risks, per-capita income, surveyed days ago).
    plan = [
        ("v1-01", 0, 4, "01", ["01"], 4300, 330), ("v1-02", 0, 3, "02", ["07"], 5200, 310),
        ("v1-03", 0, 5, "02", ["02", "h"], 3900, 285), ("v1-04", 0, 2, "01", ["01"], 4800, 260),
        ("v1-05", 0, 3, "03", ["01"], 7400, 230), ("v1-06", 0, 4, "02", ["08"], 4100, 200),
        ("v1-07", 0, 3, "01", ["07", "09"], 5600, 175),
        ("v1-08", 0, 2, "02", ["01"], 3700, 150), ("v1-09", 0, 4, "02", ["05"], 4600, 115),
        ("v1-10", 0, 3, "03", ["01"], 8100, 85), ("v1-11", 0, 3, "02", ["02"], 4900, 60),
        ("v1-12", 0, 4, "01", ["01", "08"], 3500, 75), ("v1-13", 0, 2, "02", ["07"], 5300, 40),
        ("v1-14", 0, 3, "02", ["01"], 4400, 45), ("v1-15", 0, 5, "01", ["02"], 4000, 35),
        ("v1-16", 0, 3, "02", ["08"], 3800, 55), ("v1-17", 0, 2, "03", ["05"], 6900, 30),
        ("v1-18", 0, 4, "02", ["01"], 4700, 25), ("v1-19", 0, 3, "02", ["07"], 7600, 110),
        ("v1-20", 0, 3, "02", ["01"], 5000, 20), ("v1-21", 0, 4, "02", ["07"], 5800, 18),
        ("v1-22", 0, 3, "02", ["02"], 6100, 16),
        ("v2-01", 1, 3, "01", ["01"], 4200, 320), ("v2-02", 1, 4, "02", ["08"], 4500, 230),
        ("v2-03", 1, 2, "02", ["01"], 3600, 170), ("v2-04", 1, 3, "03", ["05"], 7200, 110),
        ("v2-05", 1, 4, "01", ["02"], 4100, 75), ("v2-06", 1, 3, "02", ["07"], 5100, 45),
        ("v2-07", 1, 5, "02", ["01", "h"], 3400, 50), ("v2-08", 1, 3, "02", ["07"], 4800, 35),
        ("v2-09", 1, 2, "01", ["01"], 4300, 45), ("v2-10", 1, 4, "02", ["08"], 4700, 12),
        ("v2-11", 1, 3, "02", ["07"], 5500, 28), ("v2-12", 1, 3, "02", ["02"], 6000, 14),
    ]
    families: dict[str, Family] = {}
    for key, village, size, kind, risks, income, days in plan:
        families[key] = story.family(key, village, size, kind, risks, income)
        story.survey(families[key], days)
    f = families
    done = dict(zip(("v1-01", "v1-02", "v1-03", "v1-04", "v1-05", "v1-06", "v1-07", "v1-08",
                     "v1-09", "v1-10", "v2-01", "v2-02", "v2-03", "v2-04", "v2-05", "v2-06"),
                    (300, 280, 255, 230, 200, 170, 145, 120, 90, 60, 290, 200, 140, 80, 50, 20),
                    strict=True))
    for key, days in done.items():  # identified: monitoring objects
        story.identification(f[key], done_days_ago=days - 0)

    # Identification at every step, some overdue (the demo's deadlines), one objection open.
    story.identification(f["v1-11"], stop=Step.COUNTY_APPROVAL, entered_days_ago=4)
    story.identification(f["v1-12"], stop=Step.COUNTY_APPROVAL, entered_days_ago=30)
    story.identification(f["v1-13"], stop=Step.TOWNSHIP_REVIEW, entered_days_ago=2)
    story.identification(f["v2-07"], stop=Step.TOWNSHIP_REVIEW, entered_days_ago=20)
    story.identification(f["v1-14"], stop=Step.PUBLIC_NOTICE, entered_days_ago=10)
    story.identification(f["v1-15"], stop=Step.PUBLIC_NOTICE, entered_days_ago=3)
    story.objection(f["v1-15"], 2, "村民反映该户家中新购小汽车一辆，请核实")
    story.identification(f["v2-08"], stop=Step.PUBLIC_NOTICE, entered_days_ago=6)
    story.identification(f["v1-16"], stop=Step.VILLAGE_REVIEW, entered_days_ago=20)
    story.identification(f["v1-17"], stop=Step.VERIFICATION, entered_days_ago=5)
    story.identification(f["v2-09"], stop=Step.VERIFICATION, entered_days_ago=25)
    story.identification(f["v2-10"], stop=Step.APPLICATION, entered_days_ago=3)
    story.declaration(f["v1-18"], 1)  # 农户自主申报: its case waits at 提交申请
    story.identification(f["v1-19"], stop=Step.VILLAGE_REVIEW, entered_days_ago=100)
    story.reject(f["v1-19"], 95, "民主评议未通过：家庭人均纯收入高于监测线，无返贫致贫风险")

    # Risk elimination: done, and at every step; one notice had an objection, closed.
    story.elimination(f["v1-01"], done_days_ago=150)
    story.elimination(f["v2-01"], done_days_ago=70)
    story.elimination(f["v1-02"], done_days_ago=25)
    story.elimination(f["v1-03"], stop=Step.COUNTY_APPROVAL, entered_days_ago=25)
    story.elimination(f["v1-04"], stop=Step.TOWNSHIP_REVIEW, entered_days_ago=3)
    story.elimination(f["v2-02"], stop=Step.PUBLIC_NOTICE, entered_days_ago=5)
    story.objection(f["v2-02"], 4, "有村民反映该户务工收入不稳定", 2,
                    "经入户核实，户主已在县工业园稳定就业，异议不成立")
    story.elimination(f["v1-05"], stop=Step.VILLAGE_REVIEW, entered_days_ago=8)
    story.elimination(f["v1-06"], stop=Step.VERIFICATION, entered_days_ago=30)
    story.elimination(f["v1-07"], stop=Step.PROPOSAL, entered_days_ago=2)

    # Dynamic management: measures, and evaluations — last quarter's missing for two.
    for key, days in (("v1-08", 100), ("v1-09", 80), ("v2-03", 120), ("v2-04", 70)):
        story.measures(f[key], days)
    today = clock.today()
    last_quarter_end = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - timedelta(days=1)
    back = (today - last_quarter_end).days
    for key in ("v1-04", "v1-05", "v1-06", "v1-08", "v2-02", "v2-03"):
        story.evaluate(f[key], back + 10, "帮扶措施落实到位，家庭收入逐步稳定")
    for key in ("v1-04", "v2-02"):
        story.evaluate(f[key], 3, "产业帮扶见效，收入稳定")

    # Conflicts, a likely duplicate, a submission for review.
    stranger = story.family("v1-23", 0, 2, "02", ["07"], 5200)
    moved = f["v1-21"].members[2]
    story.survey(stranger, 9, members=[stranger.head, moved], expect="held")  # new, registered
    k = f["v2-11"]
    story.survey(k, 7, name="2", resurvey=True, members=k.members[:2], expect="held")  # dropped
    twin_of = f["v1-22"].members[1]
    twin = story.family("v1-24", 0, 2, "02", ["01"], 4800)
    sequence = int(twin_of.id_number[14:17])
    body = f"{twin_of.id_number[:14]}{sequence + 2 if sequence < 990 else sequence - 2:03d}"
    twin.members[1] = Person(twin_of.name, body + check_character(body), twin_of.birth,
                             twin_of.male, "02")
    story.used_ids.add(twin.members[1].id_number)
    story.survey(twin, 6)
    wrong = story.family("v1-25", 0, 3, "02", ["01"], 4500)
    child = wrong.members[2] = story.person("03", True, clock.today().year - 10,
                                            wrong.head.name[0])
    story.survey(wrong, 5, expect="invalid", reason={child.id_number: {  # a child at work
        fields.LABOUR_SKILL.name: "01", fields.SCHOOLING.name: "99"}})

    # A department warning list (民政局): matched tasks, a repeat, one not found, one invalid.
    with story.on(6) as day:
        rows = [("县医疗保障局", f["v1-20"].head.id_number, "住院自付费用超过 2 万元"),
                ("县医疗保障局", f["v1-14"].members[1].id_number, "住院自付费用超过 1.5 万元"),
                ("县医疗保障局", f["v1-14"].members[1].id_number, "住院自付费用超过 1.5 万元"),
                ("县人力资源和社会保障局", f["v2-12"].head.id_number, "失业登记超过 6 个月"),
                ("县应急管理局", f["v2-06"].head.id_number, "房屋受洪灾损毁"),
                ("县民政局", story.person("01", True, 1971, "周").id_number, "申请临时救助"),
                ("县残联", _miswritten(story.person("01", False, 1980, "吴").id_number),
                 "新办残疾证")]
        text = "部门,身份证号码,原因,日期\n" + "".join(
            f"{dept},{number},{why},{(day - timedelta(days=2)).isoformat()}\n"
            for dept, number, why in rows)
        report = import_warning_list(session, store, cast.county, "2026年医保民政预警名单.csv",
                                     text.encode("utf-8"), day)
    tasks = {row.id_number: row.id for row in session.scalars(
        select(WarningRow).where(WarningRow.list_id == report.list_id,
                                 WarningRow.status == "matched"))}
    with story.on(3):
        record_check(session, tasks[f["v2-06"].head.id_number], cast.village[1],
                     "已入户核查，房屋已由保险理赔修缮，无返贫风险", "01")
    with story.on(2):
        record_check(session, tasks[f["v1-20"].head.id_number], cast.village[0],
                     "已入户核查，户主住院治疗，医疗负担重，纳入监测识别程序", "02")
    session.flush()
    return {"households": session.scalar(select(func.count()).select_from(Household)),
            "submissions": story.submissions,
            "cases": session.scalar(select(func.count()).select_from(Case))}


def _miswritten(id_number: str) -> str:
    """The ID number with a wrong check character (a typing slip the import reports)."""
    wrong = "10X98765432"
    return id_number[:17] + wrong[(wrong.index(id_number[17]) + 1) % len(wrong)]
