"""server.domain.warnings: one home-check task per household, department and reason; when a
checked warning is handed out again; the phone's bounded text (issue 11, SPEC §6 部门筛查预警)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from server.domain.warnings import TEXT_MAX, covered_by_check, task_key, task_text

HOUSEHOLD = "7d9f0c52-0000-4c1e-9a51-000000000001"


def test_one_task_per_household_department_and_reason():
    """SPEC §6: the same department and reason for the same household is one task, however the
    cells were spaced; another household, department or reason is another task."""
    key = task_key(HOUSEHOLD, "县医保局", "住院自付超过2万元")

    assert task_key(HOUSEHOLD, " 县医保局 ", "住院自付超过 \n2万元") != key  # a space inside
    assert task_key(HOUSEHOLD, " 县医保局 ", "住院自付超过2万元 ") == key
    assert task_key(HOUSEHOLD, "县民政局", "住院自付超过2万元") != key
    assert task_key(HOUSEHOLD, "县医保局", "住院") != key
    assert task_key(HOUSEHOLD[:-1] + "2", "县医保局", "住院自付超过2万元") != key
    assert len(key) == 64


@given(st.dates(), st.integers(min_value=-400, max_value=400))
def test_a_check_answers_the_warnings_dated_up_to_its_day(checked_on, offset):
    """SPEC §6 (入户核查、结果反馈): a warning dated on or before the check day is answered by
    it; one dated later (a new list from a later date) is new; an undated one is answered."""
    try:
        reported = checked_on + timedelta(days=offset)
    except OverflowError:
        return
    assert covered_by_check(reported, checked_on) is (offset <= 0)
    assert covered_by_check(None, checked_on)


tasks = st.lists(st.tuples(st.text(max_size=200), st.one_of(st.none(), st.dates()),
                           st.text(max_size=2000)), max_size=300)


@given(tasks)
def test_the_phone_text_is_bounded_and_counts_the_tasks_it_does_not_show(items):
    """SPEC §6 (tasks shown on the helper's phone list): however many and however long the
    warnings, the text stays within TEXT_MAX characters and says how many there are."""
    text = task_text(items)

    assert len(text) <= TEXT_MAX
    assert (text == "") is (not items)
    if len(items) > 3:
        assert text.endswith(f"等共{len(items)}项")


def test_a_short_task_is_shown_whole():
    assert task_text([("县医保局", date(2021, 7, 1), "住院自付超过2万元"),
                      ("县民政局", None, "临时救助")]) == \
        "县医保局（2021-07-01）：住院自付超过2万元；县民政局（日期不详）：临时救助"
