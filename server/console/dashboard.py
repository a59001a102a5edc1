"""统计看板 (county and admin users; a township user sees its own township): the counts of
``server.reports.queries.counts`` as ECharts charts, each with a table of the same numbers.

The charts' options are built here from the counts and handed to the page as JSON in a
``data-chart`` attribute; ``static/dashboard.js`` draws them (no inline script: CSP). A row of
the area table opens the same page for that area (``?area=``), inside the user's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template, request

from server import db
from server.areas.services import area_names
from server.clock import today
from server.console import bp, session
from server.domain import codes
from server.domain.areas import parent_of
from server.domain.monitoring import DUE_NAMES
from server.domain.pipeline import PROCEDURE_NAMES, STEP_NAMES, Procedure, Step
from server.reports.queries import COUNTING_ROLES, Counts, cached_counts

DASHBOARD_ROLES = COUNTING_ROLES

# The stylesheet's colours (console.css :root), so that charts and page agree.
ACCENT, OVERDUE, OK, MUTED, LIGHT = "#2a6fb0", "#c2410c", "#1b7f4b", "#5c6b7a", "#9fc3e7"
PALETTE = [ACCENT, "#e0a526", OK, "#7b5ea7", "#2a9d8f", OVERDUE, "#8c6d46", MUTED]
FONT = ("Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, "
        "sans-serif")
NO_TYPE = "未填写类型"


@dataclass(frozen=True)
class Row:
    """One line of a chart's table: a label and its numbers."""

    label: str
    values: tuple
    key: str = ""  # what the row stands for (a code, a month): for links and tests


def _base(**option) -> dict:
    return {"animation": False, "color": PALETTE,
            "textStyle": {"fontFamily": FONT, "fontSize": 13},
            "tooltip": {"trigger": "item", "confine": True}, **option}


def _bars(categories: list[str], series: list[tuple[str, list[int], str | None]], *,
          horizontal: bool = False, stack: bool = False, legend: bool = True) -> dict:
    category_axis = {"type": "category", "data": categories,
                     "axisLabel": {"interval": 0, "width": 150, "overflow": "truncate"}}
    value_axis = {"type": "value", "minInterval": 1}
    if horizontal:
        category_axis["inverse"] = True
    else:
        category_axis["axisLabel"]["rotate"] = 30 if len(categories) > 6 else 0
    return _base(
        tooltip={"trigger": "axis", "confine": True, "axisPointer": {"type": "shadow"}},
        legend={"show": legend, "top": 0},
        grid={"left": 8, "right": 24, "top": 36 if legend else 12, "bottom": 8,
              "containLabel": True},
        xAxis=value_axis if horizontal else category_axis,
        yAxis=category_axis if horizontal else value_axis,
        series=[{"type": "bar", "name": name, "data": data, "barMaxWidth": 28,
                 **({"stack": "all"} if stack else {}),
                 **({"itemStyle": {"color": color}} if color else {}),
                 "label": {"show": not stack, "position": "right" if horizontal else "top"}}
                for name, data, color in series])


def _pie(items: list[tuple[str, int]], colors: list[str] | None = None,
         center: str | None = None) -> dict:
    """A ring with its labels outside; on a narrow screen (ECharts' media query) the labels
    give way to the legend, and the numbers stay in the table."""
    base = _base(
        legend={"bottom": 0},
        **({"color": colors} if colors else {}),
        **({"title": {"text": center, "left": "center", "top": "38%",
                      "textStyle": {"fontSize": 20, "fontWeight": 600, "fontFamily": FONT}}}
           if center else {}),
        series=[{"type": "pie", "radius": ["42%", "68%"], "center": ["50%", "45%"],
                 "avoidLabelOverlap": True, "label": {"formatter": "{b}\n{c}"},
                 "data": [{"name": name, "value": value} for name, value in items]}])
    return {"baseOption": base, "media": [{"query": {"maxWidth": 460}, "option": {
        "series": [{"label": {"show": False}, "labelLine": {"show": False},
                    "radius": ["45%", "72%"], "center": ["50%", "42%"]}]}}]}


def _types(found: Counts) -> tuple[dict, list[Row]]:
    rows = [Row(table.label, (found.by_type.get(table.code, 0),), table.code)
            for table in codes.MONITORING_TYPE.codes]
    if found.by_type.get(None):
        rows.append(Row(NO_TYPE, (found.by_type[None],), ""))
    return _pie([(row.label, row.values[0]) for row in rows]), rows


# ① names Hunan's 2021 figure in the source; each survey is counted against its own year's
# line (``Household.numbered_risks``), so the count names the line, not a figure.
RISK_1 = "监测户当年人均纯收入低于监测线"
# The chart's names of the numbered risks whose labels are long (the table has them in full).
SHORT_RISKS = {"1": "收入低于监测线", "2": "住房安全", "3": "义务教育失学辍学", "4": "饮水安全",
               "5": "未参加基本医保"}


def _risks(found: Counts) -> tuple[dict, list[Row]]:
    risks = found.risks
    rows, short = [], []
    for item in codes.NUMBERED_RISKS.codes:
        if item.code not in risks.by_risk:
            continue
        label = RISK_1 if item.code == "1" else item.label
        mark = codes.NUMBERED_RISK_MARKS[item.code]
        rows.append(Row(f"{mark} {label}", (risks.by_risk[item.code],), item.code))
        short.append(f"{mark} {SHORT_RISKS.get(item.code, label)}")
    option = _bars(short, [("户数", [r.values[0] for r in rows], ACCENT)],
                   horizontal=True, legend=False)
    return option, rows


def _areas(found: Counts, names: dict[str, str]) -> tuple[dict, list[Row]]:
    rows = [Row(names.get(a.area_code, a.area_code),
                (a.monitored, a.eliminated, a.open_cases, a.overdue_cases), a.area_code)
            for a in found.by_area]
    labels = [row.label for row in rows]
    option = _bars(labels, [("监测对象", [r.values[0] for r in rows], ACCENT),
                            ("已消除风险", [r.values[1] for r in rows], OK)], stack=True)
    return option, rows


def _steps(found: Counts) -> tuple[dict, list[Row]]:
    by_step = {(s.procedure, s.step): s for s in found.cases.by_step}
    steps = list(Step)  # 提交申请, 村级提名, 入户核实 … 县级审定: both procedures' order

    def counted(procedure: Procedure, step: Step, overdue: bool = False) -> int:
        found_step = by_step.get((procedure, step))
        if found_step is None:
            return 0
        return found_step.overdue if overdue else found_step.open

    rows = [Row(f"{PROCEDURE_NAMES[s.procedure]} · {STEP_NAMES[s.step]}", (s.open, s.overdue),
                f"{s.procedure.value}/{s.step.value}") for s in found.cases.by_step]
    series = [(f"{PROCEDURE_NAMES[p]}", [counted(p, step) for step in steps], color)
              for p, color in ((Procedure.IDENTIFICATION, ACCENT),
                               (Procedure.ELIMINATION, "#2a9d8f"))]
    series.append(("其中逾期", [sum(counted(p, step, True) for p in Procedure) for step in steps],
                   OVERDUE))
    return _bars([STEP_NAMES[step] for step in steps], series), rows


def _months(found: Counts) -> tuple[dict, list[Row]]:
    rows = [Row(f"{m.month[:4]}年{int(m.month[5:])}月", (m.identified, m.eliminated), m.month)
            for m in found.per_month]
    option = _base(
        tooltip={"trigger": "axis", "confine": True}, legend={"top": 0},
        grid={"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True},
        xAxis={"type": "category", "data": [f"{m.month[2:4]}.{m.month[5:]}"
                                            for m in found.per_month]},
        yAxis={"type": "value", "minInterval": 1},
        series=[{"type": "bar", "name": "识别纳入监测", "barMaxWidth": 22,
                 "data": [m.identified for m in found.per_month], "itemStyle": {"color": ACCENT}},
                {"type": "bar", "name": "风险消除", "barMaxWidth": 22,
                 "data": [m.eliminated for m in found.per_month], "itemStyle": {"color": OK}}])
    return option, rows


def _progress(found: Counts) -> tuple[dict, list[Row]]:
    progress = found.progress
    rows = [Row("监测帮扶中", (progress.monitored - progress.eliminating,), "monitored"),
            Row("风险消除程序中", (progress.eliminating,), "eliminating"),
            Row("已消除风险", (progress.eliminated,), "eliminated")]
    center = f"{progress.rate}%" if progress.rate is not None else "—"
    option = _pie([(row.label, row.values[0]) for row in rows], [ACCENT, LIGHT, OK], center)
    return option, rows


def _evaluations(found: Counts) -> tuple[dict, list[Row]]:
    rows = [Row(e.period, (e.households, e.done, e.missing, DUE_NAMES[e.missing_status]),
                e.period) for e in found.evaluations]
    option = _bars([row.label for row in rows],
                   [("已评估", [e.done for e in found.evaluations], OK),
                    ("未评估", [e.missing for e in found.evaluations], OVERDUE)],
                   horizontal=True, stack=True)
    return option, rows


@bp.get("/dashboard")
@session.login_required(*DASHBOARD_ROLES)
def dashboard():
    user = session.current_user()
    area = request.args.get("area", "").strip()
    found = cached_counts(db.session(), user, today(), {"area_code": area} if area else {},
                          current_app.config["COUNTS_CACHE_SECONDS"])
    names = area_names(db.session(), found.area_code)
    charts = {name: build(found) for name, build in (
        ("types", _types), ("risks", _risks), ("steps", _steps), ("months", _months),
        ("progress", _progress), ("evaluations", _evaluations))}
    charts["areas"] = _areas(found, names)
    # Back up one level, never above the user's own area.
    parent = None
    if found.area_code != user.area_code:
        parent = max(parent_of(found.area_code) or "", user.area_code, key=len)
    return render_template("console/dashboard.html", counts=found, charts=charts,
                           area_name=names.get(found.area_code, found.area_code),
                           parent=parent, step_names=STEP_NAMES,
                           procedure_names=PROCEDURE_NAMES)
