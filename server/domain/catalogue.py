"""The one catalogue of codes: every error, rule and problem the server can name.

Each code has an HTTP status (what a request it refuses answers with), a category and a Chinese
message template (``str.format`` over named values) that names the rule. The domain raises or
returns a code with its values (``CatalogueError``, ``Message``, a survey ``Problem``); the text
is made from this table in one place (``render``), never at the place that finds the fault.
``server.errors`` renders a refusal for HTTP (JSON, OpenRosa) from the same table, and
``GET /api/v1/error-codes`` lists it. Tests assert codes, never message text.

Categories:
- ``access``: who may (authentication, role, area);
- ``request``: what was sent (format, size, a missing or unknown thing, a framework error);
- ``rule``: a rule of SPEC refuses the action as things stand (procedures, registry, accounts);
- ``problem``: a located problem of a submission's content, or of a row of an imported list:
  stored with it (the submission stays, ``invalid`` or ``held``); the status applies only where
  a request is refused for it (an elimination blocker refuses the county's approval);
- ``reason``: why a value, a file or the XML is invalid, named inside another code's message
  (``FIELD_INVALID``, ``WARNING_LIST_UNREADABLE``, ``XML_MALFORMED``, ``SIGNATURE_NOT_IMAGE`` …)
  and given as its code in the refusal's ``details``;
- ``server``: the server's own failure.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    ACCESS = "access"
    REQUEST = "request"
    RULE = "rule"
    PROBLEM = "problem"
    REASON = "reason"
    SERVER = "server"


@dataclass(frozen=True)
class Kind:
    status: int
    category: Category
    message: str  # str.format template over the code's named values

    @property
    def placeholders(self) -> frozenset[str]:
        return placeholders(self.message)


_A, _Q, _R, _P, _W, _S = (Category.ACCESS, Category.REQUEST, Category.RULE, Category.PROBLEM,
                          Category.REASON, Category.SERVER)

CATALOGUE: dict[str, Kind] = {
    # --- authentication and access ---------------------------------------------------------
    "AUTH_REQUIRED": Kind(401, _A, "需要登录：请提供用户名和密码，或使用带密钥的服务器地址"),
    "AUTH_INVALID": Kind(401, _A, "用户名、密码或密钥不正确，或已被停用"),
    "FORBIDDEN_ROLE": Kind(403, _A, "您的角色（{role}）无权进行此操作"),
    "LOGIN_THROTTLED": Kind(
        429, _A, "登录失败次数过多，该账号或本机地址已被暂时锁定：请 {minutes} 分钟后再试"),
    "ID_NUMBER_IN_URL": Kind(
        400, _Q, "身份证号码不能放在网址中（会被写入访问日志）：请用 POST /api/v1/people/search，"
                 "号码放在请求体中"),
    "CSRF_INVALID": Kind(
        400, _Q, "表单已过期或来源不明（CSRF 校验失败），未予处理：请刷新页面后重新提交"),
    "PASSWORD_OLD_WRONG": Kind(400, _Q, "原密码不正确"),
    "PASSWORD_MISMATCH": Kind(400, _Q, "两次输入的新密码不一致"),
    "PASSWORD_WEAK": Kind(
        400, _Q, "新密码至少 {min_length} 个字符（最多 {max_length} 个），不能与用户名相同，"
                 "不能全是数字，不能过于简单（重复字符或常见密码）"),
    "PASSWORD_CHANGE_REQUIRED": Kind(
        403, _A, "您的密码由管理员设置，请先修改密码（POST /api/v1/me/password 或网页控制台的"
                 "“修改密码”）后再继续"),
    "AREA_OUTSIDE_SCOPE": Kind(403, _A, "区划 {area_code} 不在您的辖区内"),
    "ROLE_NOT_GRANTABLE": Kind(
        403, _A, "您的角色（{role}）不能创建或管理“{target}”角色的用户：县级用户只能管理乡镇、"
                 "村级和信息采集员账号"),
    "FORM_NOT_ALLOWED": Kind(403, _A, "您无权提交表单“{form_id}”"),
    "DUPLICATE_OUTSIDE_AREA": Kind(
        403, _A, "疑似重复的两人分属不同辖区（{area_a}、{area_b}），须由辖区同时包含两户的"
                 "审核人（上级乡镇或县级）判定"),
    # --- user accounts (REST /users) --------------------------------------------------------
    "AREA_UNKNOWN": Kind(400, _Q, "没有区划代码为 {area_code} 的区划"),
    "AREA_CODE_INVALID": Kind(400, _Q, "区划代码“{area_code}”应为 4、6、9、12 或 15 位数字"),
    "USERNAME_TAKEN": Kind(409, _R, "用户名“{username}”已被使用"),
    "USER_SELF": Kind(409, _R, "不能停用自己的账号"),
    "USER_INACTIVE": Kind(409, _R, "用户 {username} 已停用"),
    "DEMO_FOREIGN_DATA": Kind(
        409, _R, "数据库中已有非演示数据（{found}），fangpin demo 不在其中添加演示用户和数据："
                 "请使用空数据库（另设 DATABASE_URL 或 FANGPIN_INSTANCE）"),
    "TOKEN_NOT_FOR_ROLE": Kind(
        409, _R, "只有信息采集员和村级用户使用 ODK Collect 密钥（该用户为“{role}”）"),
    # --- the area tree (console 区划, REST /areas) ------------------------------------------
    "AREA_GROUP_NOT_VILLAGE": Kind(
        409, _R, "村民小组只能添加在村（社区）下：区划 {area_code} 不是村（社区）"),
    "AREA_GROUPS_FULL": Kind(409, _R, "区划 {area_code} 的村民小组编号已用完（最多 999 个）"),
    "AREA_NAME_INVALID": Kind(400, _Q, "区划名称应为 1–{max_length} 个字符，且不含控制字符"),
    "AREA_NATIONAL": Kind(
        409, _R, "{name}（{area_code}）是国家统计用区划，名称随区划代码文件导入"
                 "（fangpin import-areas），不能在此修改"),
    # --- background jobs (REST /jobs, console 后台任务) -----------------------------------------
    "JOB_NOT_DONE": Kind(409, _R, "任务 {job_id} 尚未完成（{state}），文件还不能下载"),
    "JOB_FAILED": Kind(500, _S, "后台任务出错，未能完成：请重新提交，或请管理员查看服务器日志"),
    # --- forms and submissions (ODK Collect) ------------------------------------------------
    "FORM_NOT_FOUND": Kind(404, _Q, "服务器上没有表单“{form_id}”"),
    "FORM_VERSION_UNKNOWN": Kind(
        404, _Q, "表单“{form_id}”没有版本“{version}”：请在 Collect 中更新空白表单后重新填写"),
    "MEDIA_NOT_FOUND": Kind(404, _Q, "表单“{form_id}”没有附件“{name}”"),
    "SUBMISSION_TOO_LARGE": Kind(
        413, _Q, "提交内容过大（{size} 字节），服务器最多接受 {limit} 字节"),
    "REQUEST_TOO_SLOW": Kind(
        408, _Q, "请求内容发送过慢（{seconds} 秒只收到 {size} 字节，平均每秒至少应有 {rate} "
        "字节），已中断：请在网络较好时重新发送"),
    "SUBMISSION_NO_XML": Kind(400, _Q, "提交中缺少表单数据文件（xml_submission_file）"),
    "SUBMISSION_NOT_MULTIPART": Kind(400, _Q, "提交必须是 multipart/form-data 格式"),
    "XML_MALFORMED": Kind(400, _Q, "表单数据不是格式正确的 XML：{detail}"),
    "XML_FORBIDDEN": Kind(400, _Q, "表单数据包含不允许的 XML 结构（DTD/实体声明），已拒绝"),
    "XML_NO_FORM_ID": Kind(400, _Q, "表单数据的根元素缺少表单编号（id）"),
    "XML_NO_INSTANCE_ID": Kind(400, _Q, "表单数据缺少 meta/instanceID"),
    "SUBMISSION_TOO_MANY_PARTS": Kind(
        413, _Q, "提交中的文件和字段过多（服务器最多读取 {limit} 个），或其中的文字字段过大，"
                 "未予接收：请分次发送附件"),
    "XML_TOO_LARGE": Kind(
        413, _Q, "表单数据文件（xml_submission_file）过大（{size} 字节），服务器最多接受 "
                 "{limit} 字节"),
    "XML_ENCODING_UNSUPPORTED": Kind(
        400, _Q, "表单数据声明的编码为“{encoding}”，服务器只接受 UTF-8 编码的表单数据"
                 "（ODK Collect 发送的即是 UTF-8），以免中文被错误读取：请用 ODK Collect 重新发送"),
    "ATTACHMENT_NOT_IMAGE": Kind(400, _Q, "附件“{name}”应为图片：{reason}"),
    "ATTACHMENT_NAME_INVALID": Kind(
        400, _Q, "附件文件名“{name}”无效：文件名不能包含 /、\\ 或控制字符（如 NUL、换行），"
                 "未予接收"),
    "SUBMISSION_DUPLICATE_CONFLICT": Kind(
        409, _R, "编号为 {instance_id} 的提交已存在且内容不同；已保留首次提交的内容"),
    # why the XML is malformed (XML_MALFORMED's detail, besides the parser's own words)
    "XML_NOT_UTF8": Kind(400, _W, "不是 UTF-8 编码（{detail}）"),
    "INSTANCE_ID_TOO_LONG": Kind(400, _W, "instanceID 过长（最多 {limit} 个字符）"),
    # why an uploaded file is refused (media.images: the image checks)
    "IMAGE_INVALID": Kind(422, _W, "文件不是有效的图片（JPEG/PNG/WebP/GIF）"),
    "IMAGE_TOO_LARGE": Kind(422, _W, "图片像素过大（最多 {limit} 像素）"),
    "PDF_HEADER_MISSING": Kind(422, _W, "文件内容不是 PDF（缺少 %PDF- 文件头）"),
    # --- review of submissions and conflicts ------------------------------------------------
    "CONFLICT_ALREADY_RESOLVED": Kind(409, _R, "冲突 {conflict_id} 已处理"),
    "CONFLICT_RESOLUTION_NOT_APPLICABLE": Kind(
        409, _R, "“{kind}”类冲突不能按“{resolution}”处理"),
    "SUBMISSION_NOT_REVIEWABLE": Kind(
        409, _R, "该提交当前状态为“{state}”，不能在此处理（冲突请在冲突处理中解决）"),
    "REASON_REQUIRED": Kind(400, _Q, "退回、驳回、更换或办结必须填写理由"),
    "CORRECTIONS_EMPTY": Kind(400, _Q, "没有更正项：请至少更正一项"),
    "CORRECTION_KEY_INVALID": Kind(
        400, _Q, "更正项无效：{keys}（应为字段名，或 members[序号]/字段名）"),
    # --- the procedures (server.domain.pipeline) --------------------------------------------
    "CASE_ALREADY_OPEN": Kind(
        409, _R, "该户已有未办结的案件（{case_id}）：一户同时只能有一件识别或风险消除案件"),
    "HOUSEHOLD_ALREADY_MONITORED": Kind(
        409, _R, "该户已是监测对象（识别已审定、尚未风险消除），不能再次启动识别程序"),
    "ELIMINATION_NOT_MONITORED": Kind(
        409, _R, "该户不是监测对象（未经识别审定或已风险消除）：风险消除程序只针对监测对象"),
    "ELIMINATION_PROPOSER": Kind(
        403, _R, "风险消除名单由村（居）“两委”和驻村工作队提出：只有村级用户可以启动风险消除程序"),
    "CASE_CLOSED": Kind(409, _R, "该案件已办结，不能再办理或登记"),
    "STEP_ROLE": Kind(409, _R, "“{step_name}”环节不由您的角色办理"),
    "RETURN_FROM_FIRST": Kind(409, _R, "第一个环节无法退回"),
    "TEAM_TOO_SMALL": Kind(409, _R, "入户核实须由至少{minimum}人组成的核实小组完成并签字"),
    "NOTICE_NOT_FINISHED": Kind(409, _R, "公示须满{days}日，{ends_on}起方可结束"),
    "NOTICE_OBJECTION_OPEN": Kind(409, _R, "公示期间有{open}件异议尚未核实办结"),
    "NOT_IN_NOTICE": Kind(409, _R, "只能在公示期间提出异议"),
    "SIGNATURE_MISSING": Kind(
        409, _R, "“{step_name}”须有{signer_names}签字（{document}）方可通过"),
    "CONTACT_REQUIRED": Kind(409, _R, "监测对象须落实监测帮扶联系人后方可审定"),
    "ELIMINATION_NO_ASSESSMENT": Kind(409, _R, "该户尚无风险消除评估（附件4/附件5）"),
    "PRINT_WRONG_PROCEDURE": Kind(
        409, _R, "{document}只用于{procedure_name}的案件：该案件不是{procedure_name}"),
    "PRINT_NO_SURVEY": Kind(409, _R, "该户还没有信息采集表（附件2）可打印：可打印空白表手工填写"),
    "PRINT_TOO_MANY": Kind(
        409, _R, "一次最多打印 {limit} 户（本次 {count} 户）：请缩小范围或分批打印"),
    "CASE_IF_MATCH_REQUIRED": Kind(
        428, _Q, "办理案件须在 If-Match 请求头中带上读取案件时得到的 ETag，以免在过期的信息上办理"),
    "CASE_CHANGED": Kind(
        412, _Q, "案件在您读取之后已被办理或更改（ETag 不符）：请重新读取案件后再办理"),
    "BULK_TOO_MANY": Kind(400, _Q, "一次最多办理{limit}件案件"),
    "BULK_NONE_SELECTED": Kind(400, _Q, "请先勾选要批量办理的案件"),
    "CASE_ACTION_REQUIRED": Kind(400, _Q, "请选择办理方式：通过、退回或驳回"),
    "SIGNATURE_PART_UNKNOWN": Kind(
        400, _Q, "只接受名为 signature 或 signature_<签字人>（{signers}）的签名文件和名为 "
                 "attachment 的附件，不接受“{part}”"),
    "SIGNATURE_NOT_IMAGE": Kind(
        422, _Q, "签名文件“{name}”不是有效的签名图片：{reason}；本次办理未保存"),
    "SIGNATURES_TOO_MANY": Kind(422, _Q, "一次办理最多上传{limit}个签名文件"),
    "ATTACHMENT_NOT_ALLOWED": Kind(
        422, _Q, "附件“{name}”不是允许的文件类型（只接受图片 JPEG/PNG/WebP/GIF 或 PDF 文件）："
                 "{reason}；本次办理未保存"),
    "ATTACHMENTS_TOO_MANY": Kind(422, _Q, "一次办理最多上传{limit}个附件"),
    "OBJECTION_CLOSED": Kind(409, _R, "异议 {objection_id} 已核实办结，不能再次办结"),
    "CASE_NO_HOUSEHOLD": Kind(409, _R, "该案件尚未关联农户，不能登记帮扶措施或联系人"),
    "MEASURE_INVALID": Kind(422, _Q, "帮扶措施有误：{problems}"),
    "MEASURE_DATE_OUTSIDE_CASE": Kind(
        422, _Q, "录入日期应在案件开启之日（{opened_on}）至今天之间"),
    # --- dynamic management: evaluations, sweeps, deadlines ---------------------------------
    "DATE_IN_FUTURE": Kind(400, _Q, "日期 {date} 晚于今天：只能登记已经完成的评估或排查"),
    "DATE_OUTSIDE_PERIOD": Kind(
        400, _Q, "日期 {date} 不在 {period}（{start}至{end}）内：排查台账只登记本次排查半年内的"
                 "核查"),
    "PERIOD_INVALID": Kind(400, _Q, "期间“{period}”无效：季度写作如 2026Q3，半年写作如 2026H1"),
    "PERIOD_NOT_STARTED": Kind(400, _Q, "{period} 尚未开始，没有应完成的评估"),
    "HOUSEHOLD_NOT_MONITORED": Kind(
        409, _R, "该户在 {date} 不是监测对象（未经识别认定或已风险消除）：帮扶成效评估只针对"
                 "监测对象"),
    "EVALUATION_INCOMPLETE": Kind(400, _Q, "评估人和评估结果不能为空"),
    "SWEEP_AREA_LEVEL": Kind(400, _Q, "集中排查以县（市区）或乡镇（街道）为单位开展"),
    "SWEEP_EXISTS": Kind(
        409, _R, "{area_code} 的 {period} 集中排查已经开启（{sweep_id}）：每半年一次"),
    "SWEEP_OVERLAPS": Kind(
        409, _R, "{period} 已有覆盖该范围的集中排查（{area_code}，{sweep_id}）：每户每半年只排查"
                 "一次，只建一本排查台账；请在已开启的排查中登记"),
    "SWEEP_NOT_STARTED": Kind(
        400, _Q, "{period} 尚未开始（{start} 起）：集中排查只能在该半年开始后开启"),
    "SWEEP_FINDING_REQUIRED": Kind(400, _Q, "排查结果不能为空"),
    "DEADLINE_OTHER_PROVINCE": Kind(400, _Q, "只能设置本省的办理时限"),
    "DEADLINE_STEP_UNKNOWN": Kind(400, _Q, "“{procedure}”程序没有“{step}”环节"),
    "DEADLINE_WORKDAYS_RANGE": Kind(400, _Q, "办理时限应为0–{limit}个工作日"),
    # --- department warning lists (部门筛查预警) -----------------------------------------------
    "WARNING_LIST_TOO_LARGE": Kind(
        413, _Q, "预警名单文件过大（{size} 字节），最多接受 {limit} 字节：请分成几个文件上传"),
    "WARNING_LIST_UNREADABLE": Kind(400, _Q, "预警名单文件无法读取：{reason}"),
    "WARNING_ALREADY_CHECKED": Kind(
        409, _R, "该预警任务已反馈过核查结果（{checked_at}），不能重复反馈"),
    "WARNING_RESULT_REQUIRED": Kind(
        400, _Q, "请填写入户核查情况；结果为“无法核实”时须写明原因"),
    "WARNING_OUTCOME_UNKNOWN": Kind(400, _Q, "核查结果代码“{outcome}”不在代码表中"),
    # why a warning list cannot be read (WARNING_LIST_UNREADABLE's reason)
    "LIST_EMPTY": Kind(400, _W, "文件为空"),
    "LIST_XLSX_NOT_ZIP": Kind(
        400, _W, "扩展名是 .xlsx，但内容不是 Excel 工作簿（XLSX 应为 ZIP 格式）；加密的或旧版 "
                 "Excel 文件请另存为 .xlsx 或 CSV（UTF-8）"),
    "LIST_CSV_IS_ZIP": Kind(400, _W, "扩展名是 .csv，但内容是 ZIP/XLSX 文件：请把扩展名改为 .xlsx"),
    "LIST_LEGACY_EXCEL": Kind(
        400, _W, "不支持旧版 Excel/WPS 表格（.xls、.et）：请另存为 .xlsx 或 CSV（UTF-8）"),
    "LIST_FILE_TYPE": Kind(400, _W, "只接受 CSV（.csv）或 Excel 工作簿（.xlsx）文件"),
    "LIST_TOO_MANY_ROWS": Kind(400, _W, "名单超过 {limit} 行：请分成几个文件上传"),
    "LIST_HEADER_MISSING": Kind(
        400, _W, "表头缺少列：{columns}（表头应为 部门、身份证号码、原因、日期）"),
    "LIST_CSV_ENCODING": Kind(400, _W, "CSV 文件应为 UTF-8 编码（或 GBK）"),
    "LIST_CSV_NUL": Kind(
        400, _W, "CSV 文件中有空字符，不是文本文件（UTF-16 编码的文件请另存为 CSV（UTF-8））"),
    "LIST_CSV_MALFORMED": Kind(
        400, _W, "CSV 格式错误（第 {line} 行）：单元格过长或引号不成对"),
    "LIST_TOO_MANY_LINES": Kind(
        400, _W, "文件超过 {limit} 行（空行也计入）：请删去多余的行，或另存为 CSV"),
    "LIST_XLSX_CORRUPT": Kind(400, _W, "不是有效的 Excel 工作簿（ZIP 结构损坏）"),
    "LIST_XLSX_TOO_LARGE": Kind(
        400, _W, "工作簿解压后过大：请只保留名单所在的工作表，或另存为 CSV"),
    "LIST_XLSX_NO_SHEET": Kind(400, _W, "工作簿中没有工作表"),
    "LIST_XLSX_FORBIDDEN_XML": Kind(
        400, _W, "工作簿含有不允许的 XML 结构（DTD/实体声明），已拒绝"),
    "LIST_XLSX_INVALID": Kind(400, _W, "不是有效的 Excel 工作簿（.xlsx）"),
    # what is wrong with one row of a warning list (the import report's ``problem``)
    "ID_SCIENTIFIC_NOTATION": Kind(
        422, _P, "身份证号码被表格存成了数字（科学计数法），末几位已丢失：请把该列设为文本格式后"
                 "重新填写"),
    "WARNING_ROW_DEPARTMENT_MISSING": Kind(422, _P, "缺少部门"),
    "WARNING_ROW_DEPARTMENT_TOO_LONG": Kind(422, _P, "部门名称超过 {limit} 字"),
    "WARNING_ROW_REASON_MISSING": Kind(422, _P, "缺少预警原因"),
    "WARNING_ROW_REASON_TOO_LONG": Kind(422, _P, "预警原因超过 {limit} 字"),
    "WARNING_ROW_DATE_FORMAT": Kind(
        422, _P, "日期应为 YYYY-MM-DD（也可写 YYYY/MM/DD、YYYYMMDD、YYYY年M月D日，或 Excel 的日期"
                 "单元格）"),
    "WARNING_ROW_DATE_INVALID": Kind(422, _P, "日期“{text}”不存在"),
    "WARNING_ROW_UNMATCHED": Kind(422, _P, "本辖区登记册中没有此身份证号码的人员"),
    "WARNING_ROW_ALREADY_CHECKED": Kind(
        409, _P, "该户同一部门、同一原因的预警已于 {checked_on} 入户核查（任务 {task_id}）："
                 "日期不晚于核查日的预警不再交办"),
    # --- a submission's located problems (server.domain.survey and the take-in) -------------
    "FIELD_REQUIRED": Kind(422, _P, "{label}不能为空"),
    "FIELD_INVALID": Kind(422, _P, "“{value}”无效：{reason}"),
    "NO_MEMBERS": Kind(422, _P, "家庭成员不能为空"),
    "HEAD_COUNT": Kind(422, _P, "每户应有且只有一名“本人或户主”，实有{count}名"),
    "DEATH_BEFORE_BIRTH": Kind(422, _P, "死亡日期早于出生日期"),
    "WORK_MONTHS_RANGE": Kind(422, _P, "务工时间应为0–12个月，以0.5个月为单位"),
    "LABOUR_SKILL_AGE": Kind(
        422, _P, "{band}（{age}岁）的劳动技能应为{expected}，不能是“{skill}”"),
    "LABOUR_SKILL_AGE_UNUSUAL": Kind(
        422, _P, "{band}（{age}岁）填写“技能劳动力”，请核实执业资格证书"),
    "LABOUR_SKILL_DISABILITY": Kind(
        422, _P, "除一、二级肢体残疾和精神、智力残疾外，成年残疾人原则上应视为有劳动力，请核实"),
    "MONITORING_TYPE_SUDDEN_BELOW_LINE": Kind(
        422, _P, "家庭人均纯收入低于监测范围基准线的户不能认定为突发严重困难户"),
    "FIGURE_MISSING": Kind(
        409, _P, "没有 {year} 年及以前本省的{figure}：无法计算和判断，请县级管理员先录入该年度"
                 "数值"),
    "HOUSEHOLD_UNKNOWN": Kind(422, _P, "所选农户不在登记册中或不属于您的区域"),
    "HOUSEHOLD_NO_MEMBERS": Kind(422, _P, "登记册中该户没有在世成员，无法计算人均收入"),
    "MEASURES_EMPTY": Kind(422, _P, "至少应录入一项帮扶措施（A39–A52）"),
    "PHONE_DIFFERS": Kind(
        422, _P, "手机计算值与服务器按登记册计算的值不同，以服务器为准（手机值→服务器值）："
                 "{differences}"),
    "TAKE_IN_FAILED": Kind(500, _P, "服务器处理该提交时出错，已保留待处理（{detail}）"),
    # the conflicts a submission is held for (server.domain.dedup; CONFLICT_<kind>)
    "CONFLICT_DUPLICATE_IN_SUBMISSION": Kind(
        409, _P, "同一份提交中身份证号码重复：{id_number}（第{members}名成员）"),
    "CONFLICT_MULTIPLE_HOUSEHOLDS": Kind(409, _P, "成员已登记在其他户：{id_number}"),
    "CONFLICT_ALREADY_REGISTERED": Kind(
        409, _P, "新登记户的成员已登记在其他户（分户、轮流赡养或重复登记）：{id_number}"),
    "CONFLICT_MEMBERS_LEFT": Kind(
        409, _P, "复查时原有成员未列入（迁出、婚出、分户或死亡未登记）：{id_number}"),
    "CONFLICT_OUTSIDE_AREA": Kind(409, _P, "住址或农户不在采集员的辖区内：{id_number}"),
    # risk elimination (server.domain.elimination): problems of the form, blockers of approval
    "ELIMINATION_STANDARDS": Kind(409, _P, "未达到风险消除标准：{standards}"),
    "ELIMINATION_BELOW_FLOOR": Kind(
        409, _P, "家庭人均纯收入 {a34} 元低于风险消除底线 {floor} 元，不能标注风险消除"),
    "ELIMINATION_BELOW_LINE": Kind(
        409, _P, "家庭人均纯收入 {a34} 元仍低于监测范围基准线 {line} 元，请审慎评估"),
    "ELIMINATION_NOT_FOR_NOW": Kind(
        409, _P, "无劳动能力的户落实兜底保障措施后暂不标注风险消除，继续跟踪监测"),
    # ID numbers (server.domain.idnumber, GB 11643): a person's A7, a warning list's row
    "ID_EMPTY": Kind(422, _P, "身份证号码不能为空"),
    "ID_FIRST_GENERATION": Kind(422, _P, "不接受15位一代身份证号码，请填写18位二代身份证号码"),
    "DISABILITY_CATEGORY": Kind(422, _P, "残疾人证号码第19位（残疾类别）应为1–7，实为“{digit}”"),
    "DISABILITY_LEVEL": Kind(422, _P, "残疾人证号码第20位（残疾等级）应为1–4，实为“{digit}”"),
    "ID_LENGTH": Kind(422, _P, "身份证号码应为18位（残疾人证20位），实为{length}位"),
    "ID_CHARACTERS": Kind(422, _P, "身份证号码前17位应为数字，第18位为数字或X"),
    "ID_PROVINCE": Kind(422, _P, "身份证号码前两位“{province}”不是有效的省级行政区划代码"),
    "ID_BIRTH_DATE": Kind(
        422, _P, "身份证号码第7–14位“{digits}”不是可能的出生日期（日期不存在、晚于今天或过早）"),
    "ID_CHECKSUM": Kind(422, _P, "身份证号码校验码错误：第18位应为“{expected}”，实为“{given}”"),
    # why a value is invalid (FIELD_INVALID's reason; server.domain.survey, money)
    "VALUE_NEGATIVE": Kind(422, _W, "金额不能为负数"),
    "VALUE_NOT_INTEGER": Kind(422, _W, "应为整数"),
    "VALUE_CODE_UNKNOWN": Kind(422, _W, "代码“{codes}”不在代码表“{table}”中"),
    "VALUE_DATE_FORMAT": Kind(422, _W, "日期应写作 YYYY-MM-DD"),
    "VALUE_DATE_FUTURE": Kind(422, _W, "日期 {date} 晚于今天"),
    "VALUE_PHONE": Kind(422, _W, "电话应为11位手机号或带区号的固定电话"),
    "NUMBER_FLOAT": Kind(422, _W, "金额必须是精确的十进制数，不能是浮点数"),
    "NUMBER_NOT_FINITE": Kind(422, _W, "不是有效的数值"),
    "NUMBER_NOT_TEXT": Kind(422, _W, "应为十进制数"),
    "NUMBER_PLACES": Kind(422, _W, "最多保留{places}位小数（元、角、分），此处有{given}位"),
    "NUMBER_EMPTY": Kind(422, _W, "不能为空"),
    "NUMBER_FULL_WIDTH": Kind(422, _W, "含有全角或非阿拉伯数字：只能使用半角数字0–9"),
    "NUMBER_SEPARATORS": Kind(422, _W, "含有千位分隔符或空格：请直接写数字，如 1000"),
    "NUMBER_SCIENTIFIC": Kind(422, _W, "是科学计数法：请写成普通数字，如 1000"),
    "NUMBER_PLUS_SIGN": Kind(422, _W, "不能带正号“+”"),
    "NUMBER_NOT_PLAIN": Kind(422, _W, "不是普通的十进制数（如 1234 或 1234.56）"),
    # --- exports (REST /exports, console, fangpin export) ------------------------------------
    "EXPORT_DATASET_UNKNOWN": Kind(404, _Q, "没有名为“{dataset}”的导出数据集；可导出：{datasets}"),
    "EXPORT_ARGUMENT_INVALID": Kind(422, _Q, "导出参数“{argument}”的值无效：{reason}"),
    "EXPORT_FULL_FORBIDDEN": Kind(
        403, _A, "您的角色（{role}）不能导出完整的身份证号码和电话号码：请去掉 full=1"),
    # --- backup and restore (fangpin backup, restore, verify-media; server/backup.py) ---------
    "BACKUP_DIR_NOT_EMPTY": Kind(
        409, _R, "备份目录 {directory} 不是空目录：请指定一个新的或空的目录，"
                 "以免覆盖或混入其他备份"),
    "BACKUP_TOOL_MISSING": Kind(
        500, _S, "找不到 PostgreSQL {major} 版的 {name} 程序：请安装与数据库服务器同一主版本的"
                 "客户端（Debian：apt-get install postgresql-client-{major}），或设置 PG_BIN_DIR"),
    "BACKUP_DUMP_FAILED": Kind(500, _S, "{program} 运行失败（退出码 {status}）：{detail}"),
    "BACKUP_INCOMPLETE": Kind(
        500, _S, "备份不完整：数据库引用的文件中有 {missing} 个在媒体存储中找不到、{corrupt} 个"
                 "内容与编号不符（已列入 {manifest}）；数据库和其余文件已备份"),
    "BACKUP_MANIFEST_INVALID": Kind(
        400, _Q, "{directory} 不是可用的备份：{reason}"),
    "RESTORE_DATABASE_NOT_EMPTY": Kind(
        409, _R, "目标数据库不是空的（已有 {tables} 个表）：只能恢复到新建的空数据库中"
                 "（不要先运行 fangpin migrate）"),
    "RESTORE_DATABASE_KIND": Kind(
        409, _R, "备份来自 {backup} 数据库，不能恢复到 {target} 数据库"),
    "RESTORE_STORE_NOT_EMPTY": Kind(
        409, _R, "目标媒体存储中已有 {count} 个不属于此备份的文件（如 {key}）：只能恢复到空的"
                 "媒体存储中（或只含此备份文件的存储）"),
    "RESTORE_HASH_MISMATCH": Kind(
        409, _R, "备份中的 {name} 内容已损坏或被改动（SHA-256 与清单不符），未予恢复"),
    "RESTORE_INCOMPLETE_BACKUP": Kind(
        409, _R, "该备份不完整（清单列出 {missing} 个缺失的文件）：确认后可加 --accept-incomplete "
                 "恢复其余内容"),
    "RESTORE_COUNTS_MISMATCH": Kind(
        500, _S, "恢复后表 {table} 有 {found} 行，备份清单记载 {expected} 行"),
    "MEDIA_VERIFY_FAILED": Kind(
        500, _S, "媒体文件检查未通过：{missing} 个文件缺失，{corrupt} 个文件内容与编号不符"),
    # --- generic -----------------------------------------------------------------------------
    "NOT_FOUND": Kind(404, _Q, "找不到请求的资源"),
    "METHOD_NOT_ALLOWED": Kind(405, _Q, "不支持此请求方法"),
    "BAD_REQUEST": Kind(400, _Q, "请求无效：{detail}"),  # the framework's own refusals only
    "INTERNAL": Kind(500, _S, "服务器内部错误，已记录"),
    # --- the server's own outages: nothing of the request was kept; send it again -----------
    "DATABASE_UNAVAILABLE": Kind(
        503, _S, "服务器的数据库暂时无法使用，本次请求没有保存：请 {seconds} 秒后重试"
        "（手机上的表单仍保留，可以再次发送）"),
    "MEDIA_STORE_UNAVAILABLE": Kind(
        503, _S, "服务器的文件存储暂时无法使用，本次提交没有保存：请 {seconds} 秒后重试"
        "（手机上的表单和照片仍保留，可以再次发送）"),
    "MEDIA_STORE_FULL": Kind(
        507, _S, "服务器的文件存储空间已满，本次提交没有保存：请联系管理员，稍后重试"
        "（手机上的表单和照片仍保留）"),
}


def placeholders(template: str) -> frozenset[str]:
    """The named values a message template uses."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template)
                     if name is not None)


def render(code: str, params: Mapping[str, object]) -> str:
    """The Chinese message of ``code`` with its values (a value not given shows as ``?``)."""
    return CATALOGUE[code].message.format_map(_Lenient(params))


def detail(value: object) -> str:
    """A value as a refusal's ``details`` show it: a nested message by its code."""
    if isinstance(value, Message | CatalogueError):
        return value.code
    if isinstance(value, list | tuple) and value and all(
            isinstance(v, Message | CatalogueError) for v in value):
        return " ".join(v.code for v in value)
    return str(value)


class _Lenient(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _known(code: str) -> str:
    if code not in CATALOGUE:
        raise KeyError(f"unknown error code {code!r}")
    return code


class Message:
    """A code of the catalogue with its values: what is wrong, before it is put in words.

    Its text (``str()``) is the catalogue's; as a value inside another code's message (a
    ``reason``) it shows as its text there and as its code in the refusal's details.
    """

    __slots__ = ("code", "params")

    def __init__(self, code: str, /, **params: object):
        self.code = _known(code)
        self.params = params

    @property
    def text(self) -> str:
        return render(self.code, self.params)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Message({self.code!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Message) and (self.code, self.params)
                == (other.code, other.params))

    __hash__ = None  # type: ignore[assignment]


class CatalogueError(ValueError):
    """A refusal named by a code of the catalogue, with its values.

    ``also``: further messages that hold at the same time (an elimination's several blockers):
    the text names them all, the details list their codes.
    """

    def __init__(self, code: str, /, *, also: Sequence[Message] = (), **params: object):
        self.code = _known(code)
        self.params = params
        self.also = tuple(also)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return "；".join([render(self.code, self.params), *(m.text for m in self.also)])

    def details(self) -> dict[str, str]:
        shown = {name: detail(value) for name, value in self.params.items()}
        if self.also:
            shown["also"] = detail(self.also)
        return shown

    def as_message(self) -> Message:
        return Message(self.code, **self.params)


def is_rule(code: str) -> bool:
    """Whether a refusal with ``code`` is a rule's (of SPEC, or a problem that blocks the
    action, as an elimination's floor blocks the county's approval), not an access or request
    error."""
    return CATALOGUE[code].category in (Category.RULE, Category.PROBLEM)


def entries(category: Category | None = None) -> Iterable[tuple[str, Kind]]:
    """The catalogue's entries in their order, or those of one category."""
    return [(code, kind) for code, kind in CATALOGUE.items()
            if category is None or kind.category is category]
