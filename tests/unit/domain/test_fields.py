"""server.domain.fields: the one registry of fields (DESIGN "One registry of fields").

Rules: SPEC §2 (the fields of the forms, derived and archive-only fields, member fields, the
three stages), §3 (A33, A34, A37, A38 computed by the server), §7 (export headers in A-code
order, "A28 工资性收入(元)").
"""

from __future__ import annotations

import re

import pytest

from server.domain import fields
from server.domain.codes import TABLE_OF_FIELD, TABLES
from server.domain.fields import (
    BY_CODE,
    BY_NAME,
    FIELDS,
    SELECT_KINDS,
    Field,
    Kind,
    Scope,
    a_code_key,
    code_span,
    effect_of,
    fields_of_stage,
    household_fields,
    in_code_order,
    member_fields,
)

A_CODES = [f"A{n}" for n in range(1, 56)] + ["A27a"]


def test_every_a_code_of_the_sheet_has_a_field():
    """SPEC §2: A1–A55 and A27a are all on the forms; nothing else is an A-code."""
    assert set(BY_CODE) == set(A_CODES)


def test_fields_are_in_a_code_order_with_address_and_phone_first():
    """SPEC §7: columns in A-code order; the address and phone open the sheet."""
    assert [f.name for f in FIELDS[:5]] == [
        "addr_county", "addr_township", "addr_village", "addr_group", "phone",
    ]
    keys = [a_code_key(f.code) for f in FIELDS if f.code]
    assert keys == sorted(keys)
    assert list(BY_CODE) == sorted(BY_CODE, key=a_code_key)


def test_names_are_unique_lowercase_snake_case():
    """DESIGN: one XLSForm name per field, a valid XLSForm and Python name."""
    names = [f.name for f in FIELDS]
    assert len(names) == len(set(names))
    assert set(BY_NAME) == set(names)
    for name in names:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name), name


def test_a_coded_names_start_with_their_code():
    """DESIGN: the XLSForm name is the A-code in lowercase + an English name ("a28_wages")."""
    for field in FIELDS:
        if field.code:
            assert field.name.startswith(field.code.lower() + "_"), field.name
        else:
            assert not re.match(r"a\d", field.name), field.name


def test_known_names():
    """DESIGN: the names the forms, ingest and exports rely on."""
    for name, code in [
        ("a5_name", "A5"), ("a7_id_number", "A7"), ("a16_work_months", "A16"),
        ("a28_wages", "A28"), ("a15_work_place", "A15"), ("a27_other_text", "A27"),
        ("a55_contact_name", "A55"), ("a55_contact_phone", "A55"),
    ]:
        assert BY_NAME[name].code == code
    assert [f.name for f in BY_CODE["A55"]] == ["a55_contact_name", "a55_contact_phone"]
    assert [f.name for f in BY_CODE["A15"]] == ["a15_work_area", "a15_work_place"]


def test_every_select_field_names_an_existing_code_table():
    """SPEC §2: code tables are those of the field guide; a select field names its table."""
    for field in FIELDS:
        if field.kind in SELECT_KINDS:
            assert field.table in TABLES, field.name
        else:
            assert field.table is None, field.name


def test_select_fields_use_the_table_of_their_a_code():
    """SPEC §2: the registry and codes.TABLE_OF_FIELD agree on every A-coded select."""
    for field in FIELDS:
        if field.code and field.table:
            assert TABLE_OF_FIELD[field.code].name == field.table, field.name
    assert set(TABLE_OF_FIELD) <= set(BY_CODE)


def test_headers_carry_code_label_and_unit():
    """SPEC §7: Chinese headers like "A28 工资性收入(元)"; fields without A-code: the label."""
    assert BY_NAME["a28_wages"].header == "A28 工资性收入(元)"
    assert BY_NAME["a16_work_months"].header == "A16 务工时间(月)"
    assert BY_NAME["a5_name"].header == "A5 姓名"
    assert BY_NAME["a27a_disaster_kinds"].header == "A27a 因自然灾害"
    assert BY_NAME["phone"].header == "联系电话"
    assert BY_NAME["addr_group"].header == "村民小组"


def test_money_fields_are_a28_to_a38_in_yuan():
    """SPEC §3: incomes and expenses A28–A38 are money in yuan."""
    money = [f.code for f in FIELDS if f.kind is Kind.MONEY]
    assert money == [f"A{n}" for n in range(28, 39)]
    assert all(BY_CODE[code][0].unit == "元" for code in money)


def test_derived_fields_are_those_the_server_computes():
    """SPEC §2/§3: A6 from the ID, A26 from A17, A33, A34, A37, A38 computed."""
    derived = {f.code for f in FIELDS if f.derived and f.code}
    assert derived == {"A6", "A26", "A33", "A34", "A37", "A38"}
    assert [f.name for f in FIELDS if f.derived and not f.code] == ["household_size"]


def test_archive_only_fields_are_paper_only():
    """SPEC §2: the form-filling date is kept for the paper archive, not the national dataset."""
    assert [f.name for f in FIELDS if f.archive_only] == ["fill_date"]
    assert not any(f.archive_only for f in FIELDS if f.code)


def test_member_fields_are_a5_to_a22_and_the_death_mark():
    """SPEC §2: the member repeat holds A5–A22, and a deceased flag with the date of death."""
    members = member_fields()
    assert {f.code for f in members if f.code} == {f"A{n}" for n in range(5, 23)}
    assert [f.name for f in members if not f.code] == [
        "has_id_card", "photo_id_certificate", "deceased", "death_date",
    ]
    assert BY_NAME["death_date"].kind is Kind.DATE
    assert all(f.scope is Scope.HOUSEHOLD for f in household_fields())
    assert len(members) + len(household_fields()) == len(FIELDS)


def test_stages_follow_the_three_phases_of_the_sheet():
    """SPEC §2: stage 1 collection, stage 2 measures A39–A52, stage 3 elimination A53–A54."""
    assert {f.code for f in fields_of_stage(2) if f.code} == {f"A{n}" for n in range(39, 53)}
    assert {f.code for f in fields_of_stage(3) if f.code} == {"A53", "A54"}
    assert BY_NAME["a55_contact_name"].stage == 1
    assert sum(len(fields_of_stage(n)) for n in (1, 2, 3)) == len(FIELDS)


def test_multiple_and_single_choice_items_as_the_sheet_says():
    """SPEC §2: A27, A27a, A39–A41, A45–A49 multiple; A3, A42, A43, A53 single; ticks."""
    multiple = {f.code for f in FIELDS if f.kind is Kind.SELECT_MULTIPLE and f.code}
    assert multiple == {
        "A27", "A27a", "A39", "A40", "A41", "A45", "A46", "A47", "A48", "A49",
        "A44", "A50", "A51", "A52",
    }
    for code in ("A3", "A42", "A43", "A53"):
        assert BY_CODE[code][0].kind is Kind.SELECT_ONE


def test_identity_and_contact_kinds():
    """SPEC §2/§3: A7 is an ID number, phones are phones, A54 is a date."""
    assert BY_NAME["a7_id_number"].kind is Kind.ID_NUMBER
    assert BY_NAME["phone"].kind is Kind.PHONE
    assert BY_NAME["a55_contact_phone"].kind is Kind.PHONE
    assert BY_NAME["a54_elimination_date"].kind is Kind.DATE
    assert BY_NAME["a16_work_months"].kind is Kind.DECIMAL


def test_visit_fields_photos_signature_and_gps_have_their_kinds():
    """SPEC §2 (household sheet): visit date, photos, GPS point, the applicant's signature."""
    assert BY_NAME["visit_date"].kind is Kind.DATE
    assert BY_NAME["application_date"].kind is Kind.DATE
    assert BY_NAME["visit_location"].kind is Kind.GEOPOINT
    for name in ("photo_hukou", "photo_house", "sig_applicant", "photo_thumbprint",
                 "photo_id_certificate"):
        assert BY_NAME[name].kind is Kind.IMAGE, name
    assert BY_NAME["severe_difficulty"].table == "yes_no"
    assert BY_NAME["household_size"].header == "家庭人口(人)"


def test_each_measure_has_its_effect_under_its_own_a_code():
    """SPEC §2.2 / 附件4: A39–A52 "and the effect of each" (帮扶成效, a text, stage two)."""
    for n in range(39, 53):
        measure, effect = BY_CODE[f"A{n}"]
        assert effect.name == f"a{n}_effect"
        assert effect.kind is Kind.TEXT and effect.stage == 2 and effect.table is None
        assert effect.label == f"{measure.label}成效"
    assert BY_NAME["a39_effect"].header == "A39 产业帮扶成效"
    assert "assistance_effect" not in BY_NAME


def test_measure_record_date_and_green_channel():
    """SPEC §6 (issue 6 "green channel"): measures may be recorded before identification ends."""
    assert BY_NAME["measure_date"].kind is Kind.DATE
    assert BY_NAME["green_channel"].table == "yes_no"
    assert {BY_NAME[name].stage for name in ("measure_date", "green_channel")} == {2}


def test_the_four_elimination_standards_are_stage_three_yes_no():
    """SPEC §6: standards, all required — measures, 两不愁三保障 and water, income, rigid costs."""
    standards = [f for f in fields_of_stage(3) if f.name.startswith("std_")]
    assert [f.name for f in standards] == [
        "std_measures_carried_out", "std_basic_needs_secured", "std_income_stable",
        "std_rigid_expenses_resolved",
    ]
    assert all(f.table == "yes_no" and not f.code for f in standards)
    assert [f.name for f in fields_of_stage(3) if not f.code] == [
        *(f.name for f in standards), "sig_head",
    ]
    assert BY_NAME["sig_head"].kind is Kind.IMAGE


def test_self_declaration_fields():
    """SPEC §2.4: who declares (on behalf: name, phone, relation), the head, risks ②–⑭, channel."""
    declaration = [f for f in FIELDS if f.name.startswith("decl_")]
    assert all(f.scope is Scope.HOUSEHOLD and f.stage == 1 and not f.code for f in declaration)
    assert BY_NAME["decl_head_id_number"].kind is Kind.ID_NUMBER
    assert BY_NAME["decl_declarant_phone"].kind is Kind.PHONE
    assert BY_NAME["decl_household_size"].header == "家庭人口(人)"
    assert BY_NAME["decl_risks"].kind is Kind.SELECT_MULTIPLE
    assert BY_NAME["decl_risks"].table == "numbered_risks"
    assert BY_NAME["decl_channel"].table == "declaration_channel"
    assert BY_NAME["decl_on_behalf"].table == "yes_no"


def test_there_is_no_fourth_stage():
    """SPEC §2: the sheet is filled in three stages; any other stage number is an error."""
    with pytest.raises(ValueError):
        fields_of_stage(4)


def test_each_a_coded_field_has_one_constant_named_after_it():
    """DESIGN: other modules name a field by its constant (``WAGES`` is ``a28_wages``), the
    XLSForm name without its A-code in capitals; A45 and A47 add _ASSISTANCE."""
    constants = {name: value for name, value in vars(fields).items()
                 if name.isupper() and isinstance(value, Field)}
    assert set(constants.values()) == {f for f in FIELDS
                                       if f.code and not f.name.endswith("_effect")}
    assert len(constants) == len(set(constants.values()))
    for constant, field in constants.items():
        assert BY_NAME[field.name] is field
        bare = field.name.split("_", 1)[1].upper()
        assert constant in (bare, f"{bare}_ASSISTANCE"), constant
    assert fields.WAGES.name == "a28_wages"
    assert fields.HEALTH.code == "A13" and fields.HEALTH_ASSISTANCE.code == "A45"
    assert fields.EDUCATION.code == "A11" and fields.EDUCATION_ASSISTANCE.code == "A47"


def test_income_groups_follow_the_income_rule():
    """SPEC §3: A33 = A28+A29+A30+A31−A32, A37 = A33+A35−A36: seven items typed in, in
    ``income.IncomeItems`` order, and A33, A34, A37, A38 derived (``income.DerivedIncome``)."""
    assert [f.code for f in fields.INCOME_FIELDS] == [
        "A28", "A29", "A30", "A31", "A32", "A35", "A36"]
    assert [f.code for f in fields.DERIVED_INCOME] == ["A33", "A34", "A37", "A38"]
    assert not any(f.derived for f in fields.INCOME_FIELDS)
    assert all(f.derived for f in fields.DERIVED_INCOME)
    assert [f.code for f in fields.SECURITY_RISKS] == ["A23", "A24", "A25"]


def test_measures_are_a39_to_a52_each_with_its_effect():
    """SPEC §2.2: the fourteen measures A39–A52 of stage two, each with its code table."""
    assert [f.code for f in fields.MEASURES] == [f"A{n}" for n in range(39, 53)]
    assert all(f.table and f.stage == 2 for f in fields.MEASURES)
    assert fields.SOCIAL_PROTECTION.code == "A48"
    assert effect_of(fields.INDUSTRY).name == "a39_effect"


def test_entity_fields_are_registry_fields_of_the_household():
    """SPEC §2 (follow-up forms prefill): the household list carries household fields only."""
    assert all(f.scope is Scope.HOUSEHOLD and f.stage == 1 for f in fields.ENTITY_FIELDS)
    assert fields.ENTITY_FIELDS[:2] == (BY_NAME["household_size"], BY_NAME["phone"])
    assert set(fields.INCOME_FIELDS) < set(fields.ENTITY_FIELDS)


def test_code_span_writes_a_range_as_the_sources_do():
    """The sources name ranges of fields "A39–A52", "A33–A38"."""
    assert code_span(fields.MEASURES) == "A39–A52"
    assert code_span(fields.DERIVED_INCOME) == "A33–A38"
    assert code_span([fields.WAGES]) == "A28"


def test_export_columns_in_a_code_order_with_headers():
    """SPEC §7: export columns in A-code order headed "A28 工资性收入(元)"; fields without an
    A-code after them; fields sharing a code keep registry order."""
    columns = in_code_order()
    coded = [f for f in columns if f.code]
    assert [a_code_key(f.code) for f in coded] == sorted(a_code_key(f.code) for f in coded)
    assert columns[0].header.startswith("A1 ")
    assert not any(f.code for f in columns[len(coded):])
    assert len(columns) == len(FIELDS)
    picked = in_code_order([BY_NAME["phone"], fields.WAGES, fields.WORK_PLACE, fields.WORK_AREA,
                            fields.NAME])
    assert [f.header for f in picked] == [
        "A5 姓名", "A15 务工区域", "A15 务工所在省、市、县、乡", "A28 工资性收入(元)", "联系电话"]
    assert fields.WAGES.caption == "A28 工资性收入"
