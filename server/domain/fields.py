"""The one registry of fields (DESIGN: "One registry of fields").

Each field of the information sheet 附件2 as the field guide 附件6 defines it: its A-code, its
XLSForm name (the A-code in lowercase + an English snake_case name: ``a28_wages``), its Chinese
label, kind, scope (household or member), code table, unit and stage. Forms, the ingest mapping,
exports and the console read this module; nothing else spells an A-code.

Labels are the source's words. Markers the source puts in a label to say how a value is made —
（系统生成）, （A17指标生成）, （身份证对比生成）, （系统比对） — are left out of the label: the
``derived`` flag says it for the fields the server computes. The guide's units（元）become ``unit``.

Fields without an A-code: the address (registered residence, as area codes picked from the
helper's area lists; the city is the county code's prefix), the contact phone, the deceased flag
and death date of a member (SPEC §2), the paper-only form-filling date (填表日期, 不录入系统),
the measure record's date and green-channel flag, the four risk-elimination standards
(``std_…``) and the self-declaration (``decl_…``). The effect of each measure (帮扶成效, 附件4)
is a text under the measure's own A-code: ``a39_effect`` … ``a52_effect``.

This is the only module of server/, sync/ and media/ that spells an A-code (tests/unit/domain/
test_field_registry.py): other modules name a field by its constant here (``WAGES.name``,
``NET_INCOME_PER_CAPITA.code``), a group of fields by its tuple (``INCOME_FIELDS``,
``MEASURES``), a range of codes by ``code_span``. The code tables of ``codes.py`` take their
list name, A-code and title from the field they belong to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    ID_NUMBER = "id_number"
    PHONE = "phone"
    INTEGER = "integer"
    DECIMAL = "decimal"
    MONEY = "money"
    SELECT_ONE = "select_one"
    SELECT_MULTIPLE = "select_multiple"
    DATE = "date"
    GEOPOINT = "geopoint"
    IMAGE = "image"


class Scope(StrEnum):
    HOUSEHOLD = "household"
    MEMBER = "member"


SELECT_KINDS = frozenset({Kind.SELECT_ONE, Kind.SELECT_MULTIPLE})


@dataclass(frozen=True)
class Field:
    code: str
    name: str
    label: str
    kind: Kind
    scope: Scope
    table: str | None
    unit: str = ""
    derived: bool = False
    archive_only: bool = False
    stage: int = 1

    @property
    def caption(self) -> str:
        """The A-code and the label: "A28 工资性收入"; a field without A-code: its label."""
        return f"{self.code} {self.label}" if self.code else self.label

    @property
    def header(self) -> str:
        """The export column header: "A28 工资性收入(元)"; a field without A-code: its label."""
        return f"{self.caption}({self.unit})" if self.unit else self.caption


def a_code_key(code: str) -> tuple[int, str]:
    """Sort key putting A-codes in form order: A2 < A10 < A27 < A27a < A28."""
    digits = code[1:].rstrip("abcdefghijklmnopqrstuvwxyz")
    return int(digits), code[1 + len(digits):]


H, M = Scope.HOUSEHOLD, Scope.MEMBER


def _f(
    code: str, name: str, label: str, kind: Kind, scope: Scope, table: str | None = None, *,
    unit: str = "", derived: bool = False, archive_only: bool = False, stage: int = 1,
) -> Field:
    return Field(code, name, label, kind, scope, table, unit, derived, archive_only, stage)


def _money(code: str, name: str, label: str, *, derived: bool = False, stage: int = 1) -> Field:
    return _f(code, name, label, Kind.MONEY, H, unit="元", derived=derived, stage=stage)


def _yes_no(code: str, name: str, label: str, scope: Scope, *, derived: bool = False) -> Field:
    return _f(code, name, label, Kind.SELECT_ONE, scope, "yes_no", derived=derived)


# A44, A50, A51, A52 (是则勾选) are one tick box each: SELECT_MULTIPLE over a one-code table,
# so the box can be left unticked ("" = not ticked, "01" = ticked).
def _tick(code: str, name: str, label: str, table: str) -> Field:
    return _f(code, name, label, Kind.SELECT_MULTIPLE, H, table, stage=2)


# The effect (帮扶成效, 附件4 "据实填写") of one measure A39–A52: a text under the measure's
# A-code, asked when the measure is chosen ("a39_effect": "A39 产业帮扶成效").
def _effect(code: str, measure: str) -> Field:
    return _f(code, f"{code.lower()}_effect", f"{measure}成效", Kind.TEXT, H, stage=2)


# One of the four risk-elimination standards (风险消除标准): yes/no, all must be 是.
def _std(name: str, label: str) -> Field:
    return _f("", name, label, Kind.SELECT_ONE, H, "yes_no", stage=3)


FIELDS: tuple[Field, ...] = (
    # 一、基本信息 — 家庭住址 (户籍所在地) and 联系电话
    _f("", "addr_county", "县（市区）", Kind.TEXT, H),
    _f("", "addr_township", "乡镇（街道）", Kind.TEXT, H),
    _f("", "addr_village", "村（社区）", Kind.TEXT, H),
    _f("", "addr_group", "村民小组", Kind.TEXT, H),
    _f("", "phone", "联系电话", Kind.PHONE, H),
    # The date of the home visit (入户核实): the income period and the ages are counted from it.
    _f("", "visit_date", "入户核实日期", Kind.DATE, H),
    _yes_no("A1", "a1_resettlement_site", "居住在大中型易地扶贫搬迁集中安置区（800人以上）", H),
    _f("A2", "a2_site_name", "安置区地址", Kind.TEXT, H),
    _f("A3", "a3_monitoring_type", "监测对象类型", Kind.SELECT_ONE, H, "a3_monitoring_type"),
    _yes_no("A4", "a4_formerly_poor", "脱贫户", H),
    # 二、家庭成员信息 (repeat)
    _f("A5", "a5_name", "姓名", Kind.TEXT, M),
    _f("A6", "a6_sex", "性别", Kind.TEXT, M, derived=True),
    _f("A7", "a7_id_number", "居民身份证（残疾人证）号码", Kind.ID_NUMBER, M),
    # 无证者需经当地公安户籍部门甄别并出具身份证号码证明: has_id_card = 否 → its photo.
    _yes_no("", "has_id_card", "是否有居民身份证或户口簿登记的身份证号码", M),
    _f("", "photo_id_certificate", "身份证号码证明照片", Kind.IMAGE, M),
    _f("A8", "a8_relation", "与户主关系", Kind.SELECT_ONE, M, "a8_relation"),
    _f("A9", "a9_ethnicity", "民族", Kind.SELECT_ONE, M, "a9_ethnicity"),
    _f("A10", "a10_political_status", "政治面貌", Kind.SELECT_ONE, M, "a10_political_status"),
    _f("A11", "a11_education", "文化程度", Kind.SELECT_ONE, M, "a11_education"),
    _f("A12", "a12_schooling", "在校生情况", Kind.SELECT_ONE, M, "a12_schooling"),
    _f("A13", "a13_health", "健康状况", Kind.SELECT_ONE, M, "a13_health"),
    _f("A14", "a14_labour_skill", "劳动技能", Kind.SELECT_ONE, M, "a14_labour_skill"),
    _f("A15", "a15_work_area", "务工区域", Kind.SELECT_ONE, M, "a15_work_area"),
    _f("A15", "a15_work_place", "务工所在省、市、县、乡", Kind.TEXT, M),
    _f("A16", "a16_work_months", "务工时间", Kind.DECIMAL, M, unit="月"),
    _yes_no("A17", "a17_basic_medical_insurance", "是否参加城乡居民（职工）基本医疗保险", M),
    _yes_no("A18", "a18_serious_illness_insurance", "是否参加大病保险", M),
    _yes_no("A19", "a19_basic_pension", "是否参加城乡居民（职工）基本养老保险", M),
    _yes_no("A20", "a20_minimum_living_allowance", "是否享受城乡居民最低生活保障", M),
    _yes_no("A21", "a21_extreme_poverty_support", "是否特困供养人员", M),
    _yes_no("A22", "a22_relocated", "是否易地扶贫搬迁（同步搬迁）人口", M),
    _yes_no("", "deceased", "是否死亡", M),
    _f("", "death_date", "死亡日期", Kind.DATE, M),
    # Every member of the survey's roster, the deceased included (SPEC §2).
    _f("", "household_size", "家庭人口", Kind.INTEGER, H, unit="人", derived=True),
    # 三、“三保障”和饮水安全状况
    _yes_no("A23", "a23_housing_unsafe", "是否住房出现安全问题", H),
    _yes_no("A24", "a24_school_dropout", "是否义务教育阶段适龄儿童少年失学辍学", H),
    _yes_no("A25", "a25_water_unsafe", "是否饮水出现安全问题", H),
    _yes_no(
        "A26", "a26_member_uninsured", "是否有家庭成员未参加城乡居民（职工）基本医疗保险", H,
        derived=True,
    ),
    # 四、风险类型
    _f("A27", "a27_risk_types", "风险类型", Kind.SELECT_MULTIPLE, H, "a27_risk_type"),
    _f("A27", "a27_other_text", "其他（文字备注）", Kind.TEXT, H),
    _f("A27a", "a27a_disaster_kinds", "因自然灾害", Kind.SELECT_MULTIPLE, H, "a27a_disaster_kind"),
    # SPEC §4: rigid expenses or a sharp income drop causing severe difficulty (突发严重困难户).
    _yes_no("", "severe_difficulty", "是否因刚性支出较大或收入大幅缩减导致基本生活出现严重困难", H),
    # 五、收支情况
    _money("A28", "a28_wages", "工资性收入"),
    _money("A29", "a29_business_income", "生产经营性收入"),
    _money("A30", "a30_property_income", "财产性收入"),
    _money("A31", "a31_transfer_income", "转移性收入"),
    _money("A32", "a32_business_expenses", "生产经营性支出"),
    _money("A33", "a33_net_income", "家庭纯收入", derived=True),
    _money("A34", "a34_net_income_per_capita", "家庭人均纯收入", derived=True),
    _money("A35", "a35_insurance_claims", "理赔收入"),
    _money("A36", "a36_compliant_out_of_pocket", "合规自付支出"),
    _money("A37", "a37_income_reference", "纳入监测对象的收入参考范围", derived=True),
    _money(
        "A38", "a38_income_reference_per_capita", "纳入监测对象的人均收入参考范围",
        derived=True,
    ),
    # 六、帮扶措施 (stage two): each measure with its effect (帮扶成效, 附件4), form `measures`
    _f("A39", "a39_industry", "产业帮扶", Kind.SELECT_MULTIPLE, H, "a39_industry", stage=2),
    _effect("A39", "产业帮扶"),
    _f("A40", "a40_employment", "就业帮扶", Kind.SELECT_MULTIPLE, H, "a40_employment", stage=2),
    _effect("A40", "就业帮扶"),
    _f("A41", "a41_finance", "金融帮扶", Kind.SELECT_MULTIPLE, H, "a41_finance", stage=2),
    _effect("A41", "金融帮扶"),
    _f("A42", "a42_welfare_job", "公益岗位帮扶", Kind.SELECT_ONE, H, "a42_welfare_job", stage=2),
    _effect("A42", "公益岗位帮扶"),
    _f("A43", "a43_housing", "住房安全保障", Kind.SELECT_ONE, H, "a43_housing", stage=2),
    _effect("A43", "住房安全保障"),
    _tick("A44", "a44_water", "饮水安全保障", "a44_water"),
    _effect("A44", "饮水安全保障"),
    _f("A45", "a45_health", "健康帮扶", Kind.SELECT_MULTIPLE, H, "a45_health", stage=2),
    _effect("A45", "健康帮扶"),
    _f(
        "A46", "a46_compulsory_education", "义务教育保障", Kind.SELECT_MULTIPLE, H,
        "a46_compulsory_education", stage=2,
    ),
    _effect("A46", "义务教育保障"),
    _f("A47", "a47_education", "教育帮扶", Kind.SELECT_MULTIPLE, H, "a47_education", stage=2),
    _effect("A47", "教育帮扶"),
    _f(
        "A48", "a48_social_protection", "综合保障", Kind.SELECT_MULTIPLE, H,
        "a48_social_protection", stage=2,
    ),
    _effect("A48", "综合保障"),
    _f("A49", "a49_social_help", "社会帮扶", Kind.SELECT_MULTIPLE, H, "a49_social_help", stage=2),
    _effect("A49", "社会帮扶"),
    _tick("A50", "a50_relocation", "搬迁", "a50_relocation"),
    _effect("A50", "搬迁"),
    _tick("A51", "a51_living_conditions", "生产生活条件改善", "a51_living_conditions"),
    _effect("A51", "生产生活条件改善"),
    _tick("A52", "a52_infrastructure", "基础设施建设", "a52_infrastructure"),
    _effect("A52", "基础设施建设"),
    # The date the measures were recorded, and 帮扶先行: assistance recorded before the
    # identification procedure ends (the "green channel", SPEC §6).
    _f("", "measure_date", "帮扶措施录入日期", Kind.DATE, H, stage=2),
    _f("", "green_channel", "是否帮扶先行", Kind.SELECT_ONE, H, "yes_no", stage=2),
    # 七、风险消除 (stage three), form `elimination`: the four standards of the source's
    # 风险消除标准 (all must be 是), A53, A54 and the household head's confirmation (附件5).
    _std("std_measures_carried_out", "根据返贫致贫风险采取的针对性帮扶措施有效落实"),
    _std("std_basic_needs_secured", "“两不愁三保障”及饮水安全持续巩固"),
    _std("std_income_stable", "收入持续稳定"),
    _std("std_rigid_expenses_resolved", "大额刚性支出稳定解决"),
    _f(
        "A53", "a53_elimination_method", "风险消除方式", Kind.SELECT_ONE, H,
        "a53_elimination_method", stage=3,
    ),
    _f("A54", "a54_elimination_date", "风险消除时间", Kind.DATE, H, stage=3),
    _f("", "sig_head", "户主签名", Kind.IMAGE, H, stage=3),
    # A55 is required at the visit (SPEC §2): the person who collected the information.
    _f("A55", "a55_contact_name", "监测联系人", Kind.TEXT, H),
    _f("A55", "a55_contact_phone", "联系电话", Kind.PHONE, H),
    # Photos, GPS point and the applicant's signature (附件1) taken at the visit (SPEC §2).
    _f("", "photo_hukou", "户口簿照片", Kind.IMAGE, H),
    _f("", "photo_house", "住房照片", Kind.IMAGE, H),
    _f("", "visit_location", "入户核实位置", Kind.GEOPOINT, H),
    _f("", "sig_applicant", "申请人签字", Kind.IMAGE, H),
    _f("", "photo_thumbprint", "申请人按手印照片", Kind.IMAGE, H),
    _f("", "application_date", "申请日期", Kind.DATE, H),
    # Paper archive only (填表日期等内容为纸质版采集表归档使用，不录入系统).
    _f("", "fill_date", "填表日期", Kind.DATE, H, archive_only=True),
    # 农户自主申报 (self-declaration, SPEC §2.4, §6 step 1), form `declaration`; the address
    # (addr_*) and contact phone (phone) are the fields above. The risks are the numbers ②–⑭
    # of 附件1 (① is computed from A34 after the visit); ⑭ 其他 takes decl_risk_other_text.
    _f("", "decl_date", "申报日期", Kind.DATE, H),
    _f("", "decl_channel", "申报渠道", Kind.SELECT_ONE, H, "declaration_channel"),
    _f("", "decl_on_behalf", "是否他人代为申报", Kind.SELECT_ONE, H, "yes_no"),
    _f("", "decl_declarant_name", "代为申报人姓名", Kind.TEXT, H),
    _f("", "decl_declarant_phone", "代为申报人联系电话", Kind.PHONE, H),
    _f("", "decl_declarant_relation", "代为申报人与申报户的关系", Kind.TEXT, H),
    _f("", "decl_head_name", "户主姓名", Kind.TEXT, H),
    _f("", "decl_head_id_number", "户主身份证号码", Kind.ID_NUMBER, H),
    _f("", "decl_household_size", "家庭人口", Kind.INTEGER, H, unit="人"),
    _f("", "decl_risks", "返贫致贫风险", Kind.SELECT_MULTIPLE, H, "numbered_risks"),
    _f("", "decl_risk_other_text", "其他风险（文字说明）", Kind.TEXT, H),
    _f("", "decl_description", "情况说明", Kind.TEXT, H),
)

BY_NAME: dict[str, Field] = {field.name: field for field in FIELDS}


def _by_code() -> dict[str, tuple[Field, ...]]:
    grouped: dict[str, list[Field]] = {}
    for field in FIELDS:
        if field.code:
            grouped.setdefault(field.code, []).append(field)
    return {code: tuple(fields) for code, fields in sorted(grouped.items(),
                                                            key=lambda kv: a_code_key(kv[0]))}


BY_CODE: dict[str, tuple[Field, ...]] = _by_code()

# --- The A-coded fields by name -----------------------------------------------------------
# Each constant is the field's XLSForm name without its A-code, in capitals (``WAGES`` is
# ``a28_wages``); the measures A45 and A47 add _ASSISTANCE, since the member fields A13 and A11
# are HEALTH and EDUCATION. The effects of the measures are ``effect_of(measure)``.

RESETTLEMENT_SITE = BY_NAME["a1_resettlement_site"]
SITE_NAME = BY_NAME["a2_site_name"]
MONITORING_TYPE = BY_NAME["a3_monitoring_type"]
FORMERLY_POOR = BY_NAME["a4_formerly_poor"]
NAME = BY_NAME["a5_name"]
SEX = BY_NAME["a6_sex"]
ID_NUMBER = BY_NAME["a7_id_number"]
RELATION = BY_NAME["a8_relation"]
ETHNICITY = BY_NAME["a9_ethnicity"]
POLITICAL_STATUS = BY_NAME["a10_political_status"]
EDUCATION = BY_NAME["a11_education"]
SCHOOLING = BY_NAME["a12_schooling"]
HEALTH = BY_NAME["a13_health"]
LABOUR_SKILL = BY_NAME["a14_labour_skill"]
WORK_AREA = BY_NAME["a15_work_area"]
WORK_PLACE = BY_NAME["a15_work_place"]
WORK_MONTHS = BY_NAME["a16_work_months"]
BASIC_MEDICAL_INSURANCE = BY_NAME["a17_basic_medical_insurance"]
SERIOUS_ILLNESS_INSURANCE = BY_NAME["a18_serious_illness_insurance"]
BASIC_PENSION = BY_NAME["a19_basic_pension"]
MINIMUM_LIVING_ALLOWANCE = BY_NAME["a20_minimum_living_allowance"]
EXTREME_POVERTY_SUPPORT = BY_NAME["a21_extreme_poverty_support"]
RELOCATED = BY_NAME["a22_relocated"]
HOUSING_UNSAFE = BY_NAME["a23_housing_unsafe"]
SCHOOL_DROPOUT = BY_NAME["a24_school_dropout"]
WATER_UNSAFE = BY_NAME["a25_water_unsafe"]
MEMBER_UNINSURED = BY_NAME["a26_member_uninsured"]
RISK_TYPES = BY_NAME["a27_risk_types"]
OTHER_TEXT = BY_NAME["a27_other_text"]
DISASTER_KINDS = BY_NAME["a27a_disaster_kinds"]
WAGES = BY_NAME["a28_wages"]
BUSINESS_INCOME = BY_NAME["a29_business_income"]
PROPERTY_INCOME = BY_NAME["a30_property_income"]
TRANSFER_INCOME = BY_NAME["a31_transfer_income"]
BUSINESS_EXPENSES = BY_NAME["a32_business_expenses"]
NET_INCOME = BY_NAME["a33_net_income"]
NET_INCOME_PER_CAPITA = BY_NAME["a34_net_income_per_capita"]
INSURANCE_CLAIMS = BY_NAME["a35_insurance_claims"]
COMPLIANT_OUT_OF_POCKET = BY_NAME["a36_compliant_out_of_pocket"]
INCOME_REFERENCE = BY_NAME["a37_income_reference"]
INCOME_REFERENCE_PER_CAPITA = BY_NAME["a38_income_reference_per_capita"]
INDUSTRY = BY_NAME["a39_industry"]
EMPLOYMENT = BY_NAME["a40_employment"]
FINANCE = BY_NAME["a41_finance"]
WELFARE_JOB = BY_NAME["a42_welfare_job"]
HOUSING = BY_NAME["a43_housing"]
WATER = BY_NAME["a44_water"]
HEALTH_ASSISTANCE = BY_NAME["a45_health"]
COMPULSORY_EDUCATION = BY_NAME["a46_compulsory_education"]
EDUCATION_ASSISTANCE = BY_NAME["a47_education"]
SOCIAL_PROTECTION = BY_NAME["a48_social_protection"]  # 综合保障 (兜底保障类)
SOCIAL_HELP = BY_NAME["a49_social_help"]
RELOCATION = BY_NAME["a50_relocation"]
LIVING_CONDITIONS = BY_NAME["a51_living_conditions"]
INFRASTRUCTURE = BY_NAME["a52_infrastructure"]
ELIMINATION_METHOD = BY_NAME["a53_elimination_method"]
ELIMINATION_DATE = BY_NAME["a54_elimination_date"]
CONTACT_NAME = BY_NAME["a55_contact_name"]
CONTACT_PHONE = BY_NAME["a55_contact_phone"]

# --- Groups other modules read ------------------------------------------------------------

# The income and expense items typed in (A28–A32, A35, A36), in the order of
# ``domain.income.IncomeItems``; each is required (没有则填0).
INCOME_FIELDS: tuple[Field, ...] = (
    WAGES, BUSINESS_INCOME, PROPERTY_INCOME, TRANSFER_INCOME, BUSINESS_EXPENSES,
    INSURANCE_CLAIMS, COMPLIANT_OUT_OF_POCKET,
)
# The figures the server computes from them (A33, A34, A37, A38; ``domain.income``), in the
# order of ``domain.income.DerivedIncome``: the phone computes them too, the server's count.
DERIVED_INCOME: tuple[Field, ...] = (
    NET_INCOME, NET_INCOME_PER_CAPITA, INCOME_REFERENCE, INCOME_REFERENCE_PER_CAPITA,
)
# The three 保障 and water items (numbered risks ②–④, SPEC §4): 是 is a risk.
SECURITY_RISKS: tuple[Field, ...] = (HOUSING_UNSAFE, SCHOOL_DROPOUT, WATER_UNSAFE)
# The fourteen assistance measures A39–A52 (stage two), each with its code table.
MEASURES: tuple[Field, ...] = (
    INDUSTRY, EMPLOYMENT, FINANCE, WELFARE_JOB, HOUSING, WATER, HEALTH_ASSISTANCE,
    COMPULSORY_EDUCATION, EDUCATION_ASSISTANCE, SOCIAL_PROTECTION, SOCIAL_HELP, RELOCATION,
    LIVING_CONDITIONS, INFRASTRUCTURE,
)
# The registry fields the household entity list (households.csv) carries for the follow-up
# forms to prefill, in its column order; the list adds the head's name and masked ID number
# after the address and the labour capacity at the end (sync/attachments.py).
ENTITY_FIELDS: tuple[Field, ...] = (
    BY_NAME["household_size"], BY_NAME["phone"], RESETTLEMENT_SITE, MONITORING_TYPE,
    FORMERLY_POOR, *INCOME_FIELDS, CONTACT_NAME, CONTACT_PHONE,
)


def household_fields() -> tuple[Field, ...]:
    """The household-level fields, in registry order."""
    return tuple(field for field in FIELDS if field.scope is Scope.HOUSEHOLD)


def member_fields() -> tuple[Field, ...]:
    """The member-level fields (the repeat of the roster), in registry order."""
    return tuple(field for field in FIELDS if field.scope is Scope.MEMBER)


def fields_of_stage(stage: int) -> tuple[Field, ...]:
    """The fields filled at ``stage``: 1 collection, 2 measures, 3 elimination."""
    if stage not in (1, 2, 3):
        raise ValueError(f"stage must be 1, 2 or 3, not {stage!r}")
    return tuple(field for field in FIELDS if field.stage == stage)


def effect_of(measure: Field) -> Field:
    """The effect (帮扶成效) recorded with ``measure``, one of ``MEASURES``."""
    return BY_NAME[f"{measure.code.lower()}_effect"]


def code_span(group: Iterable[Field]) -> str:
    """The range of A-codes of ``group`` as the sources write it: "A39–A52"."""
    codes = sorted({field.code for field in group if field.code}, key=a_code_key)
    return f"{codes[0]}–{codes[-1]}" if len(codes) > 1 else codes[0]


_POSITION: dict[str, int] = {field.name: index for index, field in enumerate(FIELDS)}


def in_code_order(selection: Iterable[Field] = FIELDS) -> tuple[Field, ...]:
    """``selection`` as export columns: the A-coded fields in A-code order (fields sharing a
    code in registry order: A15 area before A15 place), then the others in registry order.
    Each field's ``header`` ("A28 工资性收入(元)") names its column (SPEC §7)."""
    def key(field: Field) -> tuple[bool, tuple[int, str], int]:
        return (not field.code, a_code_key(field.code) if field.code else (0, ""),
                _POSITION[field.name])
    return tuple(sorted(selection, key=key))
