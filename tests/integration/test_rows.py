"""server.rows: a batch's rows of one table in one write (COPY, or UPDATE from arrays, on
PostgreSQL; executemany on SQLite), read back exactly as SQLAlchemy's own insert and update
would have written them (issue 16)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import rows as rows_module
from server.audit.models import AuditEntry
from server.households.models import HEAD_REFERENCE, Household, Person, SurveyVersion
from server.rows import allocate_ids, deferred, insert_rows, update_rows

AUDIT = AuditEntry.__table__


@pytest.fixture(autouse=True)
def set_based_from_one_row(monkeypatch):
    """Every write here takes the set-based path on PostgreSQL, however few its rows (a few
    rows are an executemany otherwise, SQLite's path: compared against here all the same)."""
    monkeypatch.setattr(rows_module, "SET_BASED_FROM", 1)
# Text as people and phones type it, with what COPY's text format escapes: tabs, line breaks,
# backslashes, "\N"; no NUL (PostgreSQL's text holds none).
TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
               max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12)


def _audit(db, object_ids: list[str]) -> list[tuple]:
    rows = db.execute(sa.select(AuditEntry.action, AuditEntry.object_type, AuditEntry.object_id,
                                AuditEntry.user_id, AuditEntry.details, AuditEntry.at)
                      .where(AuditEntry.object_id.in_(object_ids))
                      .order_by(AuditEntry.id)).all()
    return [tuple(row) for row in rows]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(TEXT.map(lambda text: text[:60]), JSON_VALUES), min_size=1,
                max_size=6))
def test_inserted_rows_read_back_as_sqlalchemy_writes_them(db, rows):
    at = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    ours = [{"action": f"t.{i}", "object_type": "x", "object_id": f"a{i}:{text}",
             "user_id": None, "details": {"value": value, "text": text}, "at": at}
            for i, (text, value) in enumerate(rows)]
    theirs = [{**row, "object_id": "b" + row["object_id"][1:]} for row in ours]
    savepoint = db.begin_nested()
    try:
        insert_rows(db.connection(), AUDIT, ours)
        db.connection().execute(sa.insert(AUDIT), theirs)
        mine = _audit(db, [row["object_id"] for row in ours])
        sqlalchemy = _audit(db, [row["object_id"] for row in theirs])
        assert [row[:2] + row[3:] for row in mine] == [row[:2] + row[3:] for row in sqlalchemy]
        assert [row[2] for row in mine] == [row["object_id"] for row in ours]
        assert [row[4] for row in mine] == [row["details"] for row in ours]
    finally:
        savepoint.rollback()


def test_an_insert_takes_the_python_defaults_and_the_sql_values_given(db, backend):
    before = db.scalar(sa.select(sa.func.count()).select_from(AUDIT))
    insert_rows(db.connection(), Household.__table__, [
        {"id": f"T{i:07d}", "area_code": _area(db), "size": i} for i in range(3)],
        updated_at=sa.func.now())
    insert_rows(db.connection(), AUDIT, [
        {"action": "t.default", "object_type": "x", "object_id": "d1"}])
    households = db.execute(sa.select(Household).where(Household.id.like("T%"))
                            .order_by(Household.id)).scalars().all()
    assert [h.size for h in households] == [0, 1, 2]
    assert all(h.numbered_risks == "" and h.monitoring_type is None for h in households)
    assert all(h.created_at is not None and h.updated_at is not None for h in households)
    assert len({h.updated_at for h in households}) == 1  # now(): one value a transaction
    entry = db.execute(sa.select(AuditEntry).where(AuditEntry.object_id == "d1")).scalar_one()
    assert entry.details == {} and entry.at.tzinfo is not None  # default=dict, default=utcnow
    assert db.scalar(sa.select(sa.func.count()).select_from(AUDIT)) == before + 1
    db.rollback()


def test_update_rows_updates_each_row_by_its_key_and_nothing_else(db, backend):
    area = _area(db)
    insert_rows(db.connection(), Household.__table__, [
        {"id": f"U{i:07d}", "area_code": area, "size": i, "phone": f"1380000000{i}"}
        for i in range(4)], updated_at=sa.func.now())
    update_rows(db.connection(), Household.__table__, "id", [
        {"id": "U0000001", "size": 7, "phone": None},
        {"id": "U0000003", "size": 9, "phone": "13900000000"}], updated_at=sa.func.now())
    found = {row.id: (row.size, row.phone) for row in db.execute(
        sa.select(Household.id, Household.size, Household.phone)
        .where(Household.id.like("U%")))}
    assert found == {
        "U0000000": (0, "13800000000"), "U0000001": (7, None),
        "U0000002": (2, "13800000002"), "U0000003": (9, "13900000000")}
    update_rows(db.connection(), Household.__table__, "id", [])  # nothing to do
    db.rollback()


@pytest.mark.parametrize("details", [[], {"code": "X", "message": "缺少\t\\N"}, None])
def test_update_rows_writes_json_as_sqlalchemy_binds_it(db, backend, details):
    insert_rows(db.connection(), AUDIT, [
        {"action": "t.json", "object_type": "x", "object_id": f"j{i}", "details": {"a": i}}
        for i in range(2)])
    ids = db.scalars(sa.select(AuditEntry.id).where(AuditEntry.action == "t.json")
                     .order_by(AuditEntry.id)).all()
    update_rows(db.connection(), AUDIT, "id", [{"id": ids[0], "details": details}],
                action=sa.literal("t.json2"))
    db.connection().execute(sa.update(AUDIT).where(AuditEntry.id == ids[1])
                            .values(details=details, action="t.json2"))
    mine, theirs = (tuple(db.execute(sa.select(AuditEntry.action, AuditEntry.details, sa.cast(
        AuditEntry.details, sa.String).label("text")).where(AuditEntry.id == i)).one())
        for i in ids)
    assert mine == theirs
    assert mine[1] == details
    db.rollback()


def test_a_refused_row_raises_sqlalchemys_integrity_error(db, backend):
    taken = db.scalar(sa.select(Person.id_number).limit(1))
    household = db.scalar(sa.select(Household.id).limit(1))
    if taken is None:
        insert_rows(db.connection(), Person.__table__, [
            {"id_number": "11010519491231002X", "name": "甲", "sex": "2",
             "birth_date": date(1949, 12, 31), "household_id": household}])
        taken = "11010519491231002X"
    with pytest.raises(sa.exc.IntegrityError):
        insert_rows(db.connection(), Person.__table__, [
            {"id_number": taken, "name": "乙", "sex": "2", "birth_date": date(1949, 12, 31),
             "household_id": household}])
    db.rollback()


def test_allocated_ids_are_new_and_the_inserts_after_them_do_not_take_them(db, backend):
    if backend != "postgresql":
        assert allocate_ids(db.connection(), {Person.__table__: 2}) is None  # ids on insert
        return
    persons, versions = Person.__table__, SurveyVersion.__table__
    allocated = allocate_ids(db.connection(), {persons: 3, versions: 0})
    assert allocated[versions] == []
    ids = allocated[persons]
    assert len(set(ids)) == 3 and min(ids) > (db.scalar(sa.select(sa.func.max(Person.id))) or 0)
    household = db.scalar(sa.select(Household.id).limit(1))
    db.connection().execute(sa.insert(persons), [  # ids made by the insert, after the allocation
        {"id_number": f"11010519491231{i:03d}X", "name": "丙", "sex": "1",
         "birth_date": date(1949, 12, 31), "household_id": household} for i in range(2)])
    made = db.scalars(sa.select(Person.id).where(Person.name == "丙")).all()
    assert not set(made) & set(ids)
    db.rollback()


def test_deferred_references_are_checked_at_the_end_of_the_block(db, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL: SQLite's batch names heads after their rows")
    area = _area(db)
    person_id = allocate_ids(db.connection(), {Person.__table__: 1})[Person.__table__][0]
    row = {"id": "D0000001", "area_code": area, "head_person_id": person_id}
    savepoint = db.begin_nested()
    with pytest.raises(sa.exc.IntegrityError):  # without deferral: refused at once
        insert_rows(db.connection(), Household.__table__, [row])
    savepoint.rollback()

    savepoint = db.begin_nested()
    with deferred(db.connection(), [HEAD_REFERENCE]):  # the head written after the household
        insert_rows(db.connection(), Household.__table__, [row])
        insert_rows(db.connection(), Person.__table__, [
            {"id": person_id, "id_number": "11010519491231003X", "name": "丁", "sex": "1",
             "birth_date": date(1949, 12, 31), "household_id": "D0000001"}])
    savepoint.commit()
    assert db.scalar(sa.select(Household.head_person_id)
                     .where(Household.id == "D0000001")) == person_id

    savepoint = db.begin_nested()
    # never written: refused at the block's end
    with pytest.raises(sa.exc.IntegrityError), deferred(db.connection(), [HEAD_REFERENCE]):
        insert_rows(db.connection(), Household.__table__, [
            {"id": "D0000002", "area_code": area, "head_person_id": person_id + 10**6}])
    savepoint.rollback()
    with pytest.raises(sa.exc.IntegrityError):  # the savepoint's rollback made them immediate
        insert_rows(db.connection(), Household.__table__, [
            {"id": "D0000003", "area_code": area, "head_person_id": person_id + 10**6}])
    db.rollback()


def _area(db) -> str:
    from server.areas.models import Area
    return db.scalar(sa.select(Area.code).order_by(Area.code).limit(1))
