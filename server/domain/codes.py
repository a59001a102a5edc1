"""Every code table of the field guide (附件6 填表说明和指标解释) as data.

Codes are kept exactly as the source gives them: strings, zero-padded ("01"), so that a value
read from a form or written to an export is the code of the national system. Where the source
has no table, or a slip, the table's ``note`` says (in English) what was chosen and why; the
slips themselves are listed in SPEC §2.

``TABLES`` holds the tables by name (the XLSForm ``list_name``); ``TABLE_OF_FIELD`` maps an
A-code to its table. A table of one field takes its list name, A-code and title from that field
of the registry ``fields.py`` (``_of(fields.RELATION, …)``); tables that belong to no A-code (yes
or no, the numbered risks of 附件1/3/5, how a case started) are named here and are in
``TABLES`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.domain import fields
from server.domain.fields import Field, a_code_key


@dataclass(frozen=True)
class Code:
    code: str
    label: str


@dataclass(frozen=True)
class CodeTable:
    name: str
    field: str
    title: str
    codes: tuple[Code, ...]
    note: str = ""

    # code → label, built once (every answer of a survey is checked against its table)
    _labels: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        labels: dict[str, str] = {}
        for item in self.codes:
            if item.code in labels:
                raise ValueError(f"code table {self.name}: code {item.code!r} appears twice")
            labels[item.code] = item.label
        object.__setattr__(self, "_labels", labels)

    def label(self, code: str) -> str:
        """The label of ``code``; KeyError for a code not in the table."""
        try:
            return self._labels[code]
        except KeyError:
            raise KeyError(f"{self.name}: no code {code!r}") from None

    def __contains__(self, code: object) -> bool:
        try:
            return code in self._labels
        except TypeError:  # unhashable: no code
            return False

    def codes_list(self) -> list[str]:
        """The codes in source order."""
        return [item.code for item in self.codes]


def _table(name: str, title: str, *pairs: tuple[str, str], note: str = "") -> CodeTable:
    """A table of no A-code, named here."""
    return CodeTable(name, "", title, tuple(Code(c, label) for c, label in pairs), note)


def _of(field: Field, *pairs: tuple[str, str], note: str = "") -> CodeTable:
    """The table of ``field``: its list name, A-code and label are the registry's."""
    if field.table is None:
        raise ValueError(f"field {field.name} has no code table")
    return CodeTable(field.table, field.code, field.label,
                     tuple(Code(c, label) for c, label in pairs), note)


# --- 是否型 -----------------------------------------------------------------------------------

YES = "01"
NO = "02"

YES_NO = _table(
    "yes_no", "是否",
    ("01", "是"), ("02", "否"),
    note=(
        "The guide prints this table under each 是否型 item A17-A26. A1 and A4 are called "
        "选择项 in the guide but have no table of their own: they are yes/no questions, so they "
        "use this table too (SPEC §2: A1, A3, A4, A15 have no code tables). The deceased-member "
        "flag (not an A-code) uses it as well."
    ),
)

# --- 基本信息 ---------------------------------------------------------------------------------

MONITORING_TYPE = _of(
    fields.MONITORING_TYPE,
    ("01", "脱贫不稳定户"), ("02", "边缘易致贫户"), ("03", "突发严重困难户"),
    note=(
        "The source names the three types (single choice) but gives no codes: we number them "
        "01-03 in the order the source lists them."
    ),
)

# --- 家庭成员信息 -----------------------------------------------------------------------------

RELATION = _of(
    fields.RELATION,
    ("01", "本人或户主"), ("02", "配偶"), ("03", "之子"), ("04", "之女"),
    ("05", "之儿媳"), ("06", "之女婿"), ("07", "之孙子"), ("08", "之孙女"),
    ("09", "之外孙子"), ("10", "之外孙女"), ("11", "之父"), ("12", "之母"),
    ("13", "之岳父"), ("14", "之岳母"), ("15", "之公公"), ("16", "之婆婆"),
    ("17", "之祖父"), ("18", "之祖母"), ("19", "之外祖父"), ("20", "之外祖母"),
    ("21", "之兄弟姐妹"), ("99", "其他"),
)

HEAD_OF_HOUSEHOLD = "01"

ETHNICITY = _of(
    fields.ETHNICITY,
    ("01", "汉族"), ("02", "满族"), ("03", "回族"), ("04", "蒙古族"),
    ("05", "藏族"), ("06", "维吾尔族"), ("07", "苗族"), ("08", "彝族"),
    ("09", "壮族"), ("10", "布依族"), ("11", "朝鲜族"), ("12", "侗族"),
    ("13", "瑶族"), ("14", "白族"), ("15", "土家族"), ("16", "哈尼族"),
    ("17", "哈萨克族"), ("18", "傣族"), ("19", "黎族"), ("20", "傈僳族"),
    ("21", "佤族"), ("22", "畲族"), ("23", "高山族"), ("24", "拉祜族"),
    ("25", "水族"), ("26", "东乡族"), ("27", "纳西族"), ("28", "景颇族"),
    ("29", "柯尔克孜族"), ("30", "土族"), ("31", "达斡尔族"), ("32", "仫佬族"),
    ("33", "羌族"), ("34", "布朗族"), ("35", "撒拉族"), ("36", "毛南族"),
    ("37", "仡佬族"), ("38", "锡伯族"), ("39", "阿昌族"), ("40", "普米族"),
    ("41", "塔吉克族"), ("42", "怒族"), ("43", "乌孜别克族"), ("44", "俄罗斯族"),
    ("45", "鄂温克族"), ("46", "德昂族"), ("47", "保安族"), ("48", "裕固族"),
    ("49", "京族"), ("50", "塔塔尔族"), ("51", "独龙族"), ("52", "鄂伦春族"),
    ("53", "赫哲族"), ("54", "门巴族"), ("55", "珞巴族"), ("56", "基诺族"),
    ("99", "其他"),
    note=(
        "The source lists 佤族 under both 21 and 32 and omits 仫佬族; the national standard "
        "GB 3304 has 21 = 佤族 and 32 = 仫佬族, which we follow."
    ),
)

POLITICAL_STATUS = _of(
    fields.POLITICAL_STATUS,
    ("01", "中共党员"), ("02", "中共预备党员"), ("03", "共青团员"),
    ("04", "民主党派人士"), ("05", "无党派民主人士"), ("06", "群众"),
)

EDUCATION = _of(
    fields.EDUCATION,
    ("01", "文盲或半文盲"), ("02", "小学"), ("03", "初中"),
    ("04", "高中"), ("05", "大专"), ("06", "本科及以上"),
)

NOT_IN_SCHOOL = "99"

SCHOOLING = _of(
    fields.SCHOOLING,
    ("01", "学龄前儿童"), ("02", "学前教育"), ("03", "小学"),
    ("04", "七年级"), ("05", "八年级"), ("06", "九年级"),
    ("07", "普通高中一年级"), ("08", "普通高中二年级"), ("09", "普通高中三年级"),
    ("10", "中职一年级"), ("11", "中职二年级"), ("12", "中职三年级"),
    ("13", "高职高专一年级"), ("14", "高职高专二年级"), ("15", "高职高专三年级"),
    ("17", "技师学院一年级"), ("18", "技师学院二年级"),
    ("19", "技师学院三年级"), ("20", "技师学院四年级"),
    ("21", "本科一年级"), ("22", "本科二年级"), ("23", "本科三年级"),
    ("24", "本科四年级"), ("25", "本科五年级"), ("26", "硕士研究生及以上"),
    (NOT_IN_SCHOOL, "非在校生"),
    note=(
        "The source's left column reads 21 本科一年级, 23 本科二年级, 24 本科三年级 and its "
        "right column 24 本科四年级, 25 本科五年级, 26 硕士研究生及以上: 24 is used twice, 16 "
        "and 22 not at all. The right column fixes the sequence, so 本科二年级 becomes 22 and "
        "本科三年级 becomes 23; 16 stays unused (nothing in the source belongs there). The "
        "source has no code for someone not in school although the field may not be empty "
        "(本表无选填项): we add 99 非在校生, following the guide's use of 99 for 其他."
    ),
)

HEALTH = _of(
    fields.HEALTH,
    ("01", "健康"), ("02", "长期慢性病"), ("03", "大病"), ("04", "残疾"),
)

LABOUR_SKILL = _of(
    fields.LABOUR_SKILL,
    ("01", "普通劳动力"), ("02", "技能劳动力"), ("03", "丧失劳动力"),
    ("04", "无劳动力"), ("05", "弱劳动力或半劳动力"),
)

WORK_AREA = _of(
    fields.WORK_AREA,
    ("1", "县内"), ("2", "省内县外"), ("3", "省外"), ("9", "其他"),
    note=(
        "The source names the areas (县内、省内县外、省外, and 其他 for farming at home, "
        "students, soldiers) but gives no codes. SPEC §2 fixes single-digit codes 1, 2, 3 and "
        "9 (其他); they are kept as SPEC writes them, not zero-padded. The place (province, "
        "city, county, township) is a separate text field."
    ),
)

# --- 风险类型 ---------------------------------------------------------------------------------

RISK_TYPES = _of(
    fields.RISK_TYPES,
    ("01", "因病"), ("02", "因学"), ("03", "因残"), ("04", "因自然灾害"),
    ("05", "因意外事故"), ("06", "因产业项目失败"), ("07", "因务工就业不稳"),
    ("08", "缺劳动力"), ("09", "其他（文字备注）"),
    note="09 其他 takes a text remark (field a27_other_text).",
)

RISK_OTHER = "09"
RISK_NATURAL_DISASTER = "04"

DISASTER_KINDS = _of(
    fields.DISASTER_KINDS,
    ("01", "洪涝灾害"), ("02", "地质灾害"), ("03", "旱灾"), ("04", "生物灾害（虫灾）"),
    ("05", "气象灾害"), ("06", "地震灾害"), ("07", "其他（森林草原火灾、海洋灾害等）"),
    note=(
        "The guide breaks 07 over two table rows (其他（森林草原火灾 / 海洋灾害等）); the label "
        "joins them with 、 as the form 附件2 prints it."
    ),
)

# --- 帮扶措施 ---------------------------------------------------------------------------------

_TICK_NOTE = (
    "The source's only code is 01 是则勾选 (tick if yes): the item is a single tick box, "
    "left unticked when it does not apply; the label is 是."
)

INDUSTRY = _of(
    fields.INDUSTRY,
    ("01", "种植业"), ("02", "林果业"), ("03", "养殖业"), ("04", "加工业"),
    ("05", "乡村旅游"), ("06", "消费帮扶"), ("07", "其他"),
)

EMPLOYMENT = _of(
    fields.EMPLOYMENT,
    ("01", "技能培训"), ("02", "劳务输出"), ("03", "外出务工补贴"),
    ("04", "以工代赈"), ("05", "经营主体就业"), ("06", "其他"),
)

FINANCE = _of(
    fields.FINANCE,
    ("01", "小额信贷"), ("02", "其他"),
)

WELFARE_JOB = _of(
    fields.WELFARE_JOB,
    ("01", "护林员"), ("02", "护草员"), ("03", "保洁员"), ("04", "其他"),
)

HOUSING = _of(
    fields.HOUSING,
    ("01", "危房改造"), ("02", "其他"),
)

WATER = _of(fields.WATER, ("01", "是"), note=_TICK_NOTE)

HEALTH_ASSISTANCE = _of(
    fields.HEALTH_ASSISTANCE,
    ("01", "参加城乡居民基本医疗保险个人缴费补贴"), ("02", "大病保险"),
    ("03", "医疗救助"), ("04", "其他"),
)

COMPULSORY_EDUCATION = _of(
    fields.COMPULSORY_EDUCATION,
    ("01", "劝返"), ("02", "送教上门"), ("03", "寄宿生生活补助"), ("04", "其他"),
    note=(
        "The guide reads 03 寄宿生生活补贴, the form 附件2 寄宿生生活补助: we use the form's "
        "wording (SPEC §2)."
    ),
)

EDUCATION_ASSISTANCE = _of(
    fields.EDUCATION_ASSISTANCE,
    ("01", "雨露计划"), ("02", "助学贷款"), ("03", "助学金"), ("04", "其他"),
)

SOCIAL_PROTECTION = _of(
    fields.SOCIAL_PROTECTION,
    ("01", "低保"), ("02", "特困供养"), ("03", "临时救助"),
    ("04", "残疾人补贴"), ("05", "防贫保险"), ("06", "其他"),
)

SOCIAL_HELP = _of(
    fields.SOCIAL_HELP,
    ("01", "社会捐助"), ("02", "其他"),
    note=(
        "The guide's item 47 is a second 'A50 社会帮扶 (是否型)' between A49 社会帮扶 and A50 "
        "搬迁; the form 附件2 has A49 社会帮扶 (this table) and A50 搬迁 only, which we follow: "
        "the duplicate is dropped."
    ),
)

RELOCATION = _of(
    fields.RELOCATION, ("01", "是"),
    note=_TICK_NOTE + " The guide's duplicate item 47 'A50 社会帮扶' is not used (see A49).",
)

LIVING_CONDITIONS = _of(fields.LIVING_CONDITIONS, ("01", "是"), note=_TICK_NOTE)

INFRASTRUCTURE = _of(fields.INFRASTRUCTURE, ("01", "是"), note=_TICK_NOTE)

# --- 风险消除 ---------------------------------------------------------------------------------

ELIMINATION_METHOD = _of(
    fields.ELIMINATION_METHOD,
    ("01", "帮扶消除"), ("02", "自然消除"),
)

# --- Numbered risks ①-⑭ of 附件1/3/5 --------------------------------------------------------

NUMBERED_RISKS = _table(
    "numbered_risks", "返贫致贫风险",
    ("1", "监测户当年人均纯收入低于6500元"),
    ("2", "住房安全保障风险"),
    ("3", "义务教育阶段适龄儿童少年失学辍学风险"),
    ("4", "饮水安全风险"),
    ("5", "家庭成员未参加城乡居民（职工）基本医疗保险风险"),
    ("6", "因病"), ("7", "因学"), ("8", "因残"), ("9", "因自然灾害"), ("10", "因意外事故"),
    ("11", "因产业项目失败"), ("12", "因务工就业不稳"), ("13", "缺劳动力"), ("14", "其他"),
    note=(
        "The numbers ①-⑭ printed on 附件1, 附件3 and 附件5 (codes '1'-'14', not zero-padded; "
        "NUMBERED_RISK_MARKS gives the circled figure). Labels are the source's words; ① "
        "names Hunan's 2021 line (6500 元), which is configurable data (SPEC §3): printed forms "
        "render NUMBERED_RISK_1_TEMPLATE with the configured line instead. ①-⑤ are the "
        "“三保障”和饮水安全状况, ⑥-⑭ the 风险类型. NUMBERED_RISK_SOURCE says which field "
        "gives each (SPEC §4)."
    ),
)

NUMBERED_RISK_1_TEMPLATE = "监测户当年人均纯收入低于{line}元"

NUMBERED_RISK_MARKS: dict[str, str] = {
    str(n): mark for n, mark in enumerate("①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭", start=1)
}

# number -> (A-code, the code of that field that raises the risk). ① has no code: it holds
# when the per-capita net income is below the monitoring line, which is configurable data.
NUMBERED_RISK_SOURCE: dict[str, tuple[str, str | None]] = {
    "1": (fields.NET_INCOME_PER_CAPITA.code, None),
    **{str(2 + i): (field.code, YES)
       for i, field in enumerate((*fields.SECURITY_RISKS, fields.MEMBER_UNINSURED))},
    **{str(6 + i): (fields.RISK_TYPES.code, f"{i + 1:02d}") for i in range(9)},
}

# --- How a case started (SPEC §2.4, §6) -------------------------------------------------------

CASE_ORIGIN = _table(
    "case_origin", "监测方式",
    ("01", "农户自主申报"), ("02", "干部走访排查"), ("03", "部门筛查预警"), ("04", "社会监督"),
    note=(
        "No codes in the source. 01-03 are the three 监测方式 in the order the source lists "
        "them (农户自主申报、干部走访排查、部门筛查预警); 04 is the 社会监督发现渠道 the source "
        "adds to the third (网络平台、媒体反映、信访举报), kept apart because such a case is "
        "neither a department list nor a declaration. The channel of a self-declaration is a "
        "second, separate item (declaration_channel), and that of social supervision another "
        "(supervision_channel): flat two-digit tables rather than compound codes."
    ),
)

DECLARATION_CHANNEL = _table(
    "declaration_channel", "申报渠道",
    ("01", "向村（居）委会申报"), ("02", "向乡村干部申报"),
    ("03", "全国防止返贫监测信息系统手机APP"), ("04", "“12317”咨询服务热线电话"),
    ("99", "其他渠道"),
    note=(
        "Only for case_origin 01. No codes in the source: the channels are those Hunan "
        "(村（居）委会, 手机APP, 12317) and Hengyang (乡村干部) name, in person or in writing; "
        "99 covers the source's 等渠道. 他人代为申报 (declaring on someone's behalf) is not a "
        "channel: it is recorded by who the declarant is."
    ),
)

SUPERVISION_CHANNEL = _table(
    "supervision_channel", "社会监督发现渠道",
    ("01", "网络平台"), ("02", "媒体反映"), ("03", "信访举报"), ("99", "其他"),
    note=(
        "Only for case_origin 04. No codes in the source: the three sources it names, in its "
        "order, and 99 for its 等."
    ),
)

# --- The verification team (SPEC §6: a team of at least two) --------------------------------

TEAM_ROLE = _table(
    "team_role", "核实人员身份",
    ("01", "乡镇干部"), ("02", "驻村/包村干部"), ("03", "村干部"),
    note=(
        "No codes in the source: the three kinds of member SPEC §6 and 附件3 name for the "
        "home-verification team (乡镇干部、驻村/包村干部、村干部), in that order."
    ),
)

# --- Department warnings (部门筛查预警: 入户核查、结果反馈) ----------------------------

WARNING_CHECK_OUTCOME = _table(
    "warning_check_outcome", "入户核查结果",
    ("01", "已核查，无返贫致贫风险"), ("02", "已核查，纳入监测识别程序"), ("03", "无法核实"),
    note=(
        "No codes in the source, which only asks that the result of the home check be fed back "
        "(入户核查、结果反馈). 01 closes the task; 02 also opens an identification case whose "
        "origin is case_origin 03 (部门筛查预警); 03 is for a person who cannot be checked "
        "(moved away, not found, the row is wrong) and its reason is the result text."
    ),
)

# --- Indexes ----------------------------------------------------------------------------------

TABLES: dict[str, CodeTable] = {
    table.name: table
    for table in (
        YES_NO, MONITORING_TYPE,
        RELATION, ETHNICITY, POLITICAL_STATUS, EDUCATION, SCHOOLING,
        HEALTH, LABOUR_SKILL, WORK_AREA,
        RISK_TYPES, DISASTER_KINDS,
        INDUSTRY, EMPLOYMENT, FINANCE, WELFARE_JOB, HOUSING, WATER,
        HEALTH_ASSISTANCE, COMPULSORY_EDUCATION, EDUCATION_ASSISTANCE, SOCIAL_PROTECTION,
        SOCIAL_HELP, RELOCATION, LIVING_CONDITIONS, INFRASTRUCTURE,
        ELIMINATION_METHOD,
        NUMBERED_RISKS, CASE_ORIGIN, DECLARATION_CHANNEL, SUPERVISION_CHANNEL, TEAM_ROLE,
        WARNING_CHECK_OUTCOME,
    )
}

# Every A-coded field with a code table, by A-code in form order: the tables above and yes_no
# (A1, A4, A17–A26), as the registry's fields name them.
TABLE_OF_FIELD: dict[str, CodeTable] = dict(
    sorted(
        {field.code: TABLES[field.table] for field in fields.FIELDS
         if field.code and field.table}.items(),
        key=lambda item: a_code_key(item[0]),
    )
)
