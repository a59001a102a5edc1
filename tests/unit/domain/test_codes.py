"""server.domain.codes: the code tables of the field guide 附件6, kept as given, slips handled.

Rules: SPEC §2 (keep the codes as given; the list of slips in the source and how each is
handled), §4 (the numbered risks ①–⑭ and the fields they come from), §2.4/§6 (case origin).
"""

from __future__ import annotations

import re

import pytest

from server.domain.codes import (
    NUMBERED_RISK_MARKS,
    NUMBERED_RISK_SOURCE,
    TABLE_OF_FIELD,
    TABLES,
    Code,
    CodeTable,
)


def test_every_table_has_unique_codes_and_labels():
    """SPEC §2: codes are kept as given and must be unambiguous in every table."""
    for table in TABLES.values():
        codes = table.codes_list()
        assert codes, table.name
        assert len(codes) == len(set(codes)), table.name
        labels = [item.label for item in table.codes]
        assert len(labels) == len(set(labels)), table.name


def test_a_table_with_a_repeated_code_cannot_be_built():
    """SPEC §2: a table whose code repeats (like the source's A12) is refused outright."""
    with pytest.raises(ValueError):
        CodeTable("t", "A0", "t", (Code("01", "一"), Code("01", "二")))


def test_codes_are_strings_of_digits_zero_padded_as_in_the_source():
    """SPEC §2 (keep the codes as given): two digits, except A15 and the numbered risks."""
    single = {"a15_work_area", "numbered_risks"}
    for table in TABLES.values():
        for code in table.codes_list():
            assert isinstance(code, str) and code.isascii() and code.isdigit(), (table.name, code)
            if table.name not in single:
                assert len(code) == 2, (table.name, code)


def test_tables_are_indexed_by_name_and_by_field():
    """SPEC §2: each code table is named by its XLSForm list_name and reachable by A-code."""
    for name, table in TABLES.items():
        assert table.name == name
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name)
        if table.field:
            assert TABLE_OF_FIELD[table.field] is table
    for code in ("A1", "A4", *(f"A{n}" for n in range(17, 27))):
        assert TABLE_OF_FIELD[code] is TABLES["yes_no"]


def test_label_lookup_and_membership():
    """SPEC §2: a code maps to its label; an unknown code is an error, not a blank."""
    table = TABLES["a8_relation"]
    assert table.label("01") == "本人或户主"
    assert "01" in table
    assert "1" not in table and "00" not in table
    with pytest.raises(KeyError):
        table.label("23")


@pytest.mark.parametrize("name,code,label", [
    ("a8_relation", "01", "本人或户主"),
    ("a8_relation", "21", "之兄弟姐妹"),
    ("a8_relation", "99", "其他"),
    ("a9_ethnicity", "01", "汉族"),
    ("a9_ethnicity", "56", "基诺族"),
    ("a9_ethnicity", "99", "其他"),
    ("a10_political_status", "06", "群众"),
    ("a11_education", "06", "本科及以上"),
    ("a13_health", "04", "残疾"),
    ("a14_labour_skill", "05", "弱劳动力或半劳动力"),
    ("a27_risk_type", "08", "缺劳动力"),
    ("a27_risk_type", "09", "其他（文字备注）"),
    ("a27a_disaster_kind", "04", "生物灾害（虫灾）"),
    ("a27a_disaster_kind", "07", "其他（森林草原火灾、海洋灾害等）"),
    ("a40_employment", "05", "经营主体就业"),
    ("a45_health", "01", "参加城乡居民基本医疗保险个人缴费补贴"),
    ("a48_social_protection", "05", "防贫保险"),
    ("a53_elimination_method", "02", "自然消除"),
    ("yes_no", "01", "是"),
    ("yes_no", "02", "否"),
])
def test_labels_match_the_field_guide(name, code, label):
    """SPEC §2: codes and labels are those of the field guide 附件6."""
    assert TABLES[name].label(code) == label


def test_table_sizes_match_the_field_guide():
    """SPEC §2: no code of the source is lost or invented beyond the documented choices."""
    sizes = {
        "a8_relation": 22, "a9_ethnicity": 57, "a10_political_status": 6, "a11_education": 6,
        "a12_schooling": 26, "a13_health": 4, "a14_labour_skill": 5, "a27_risk_type": 9,
        "a27a_disaster_kind": 7, "a39_industry": 7, "a40_employment": 6, "a41_finance": 2,
        "a42_welfare_job": 4, "a43_housing": 2, "a45_health": 4, "a46_compulsory_education": 4,
        "a47_education": 4, "a48_social_protection": 6, "a49_social_help": 2,
        "a53_elimination_method": 2,
    }
    for name, size in sizes.items():
        assert len(TABLES[name].codes) == size, name


def test_a9_code_32_is_mulao_and_wa_appears_once():
    """SPEC §2 slip: A9 lists 佤族 under 21 and 32; GB 3304 has 32 = 仫佬族."""
    a9 = TABLES["a9_ethnicity"]
    assert a9.label("32") == "仫佬族"
    assert a9.label("21") == "佤族"
    assert [item.label for item in a9.codes].count("佤族") == 1
    assert "GB 3304" in a9.note


def test_a12_codes_are_unambiguous_with_not_in_school():
    """SPEC §2 slip: A12 repeats 24 and skips 16 and 22; it needs a "not in school" code."""
    a12 = TABLES["a12_schooling"]
    assert a12.label("21") == "本科一年级"
    assert a12.label("22") == "本科二年级"
    assert a12.label("23") == "本科三年级"
    assert a12.label("24") == "本科四年级"
    assert a12.label("25") == "本科五年级"
    assert a12.label("26") == "硕士研究生及以上"
    assert a12.label("99") == "非在校生"
    assert "16" not in a12
    assert a12.note


def test_a46_code_03_uses_the_forms_wording():
    """SPEC §2 slip: A46 03 is 寄宿生生活补助 (form), not 寄宿生生活补贴 (guide)."""
    a46 = TABLES["a46_compulsory_education"]
    assert a46.label("03") == "寄宿生生活补助"
    assert "寄宿生生活补贴" in a46.note


def test_a49_is_social_help_and_a50_is_relocation():
    """SPEC §2 slip: the guide's second "A50 社会帮扶" is dropped; A50 is 搬迁 as on the form."""
    assert TABLE_OF_FIELD["A49"].title == "社会帮扶"
    assert TABLE_OF_FIELD["A50"].title == "搬迁"
    assert [t.field for t in TABLES.values()].count("A50") == 1


def test_tables_without_codes_in_the_source_are_documented():
    """SPEC §2: A1, A3, A4, A15 have no code tables; the chosen codes are documented."""
    assert TABLE_OF_FIELD["A3"].codes_list() == ["01", "02", "03"]
    assert [item.label for item in TABLE_OF_FIELD["A3"].codes] == [
        "脱贫不稳定户", "边缘易致贫户", "突发严重困难户",
    ]
    assert [(c.code, c.label) for c in TABLE_OF_FIELD["A15"].codes] == [
        ("1", "县内"), ("2", "省内县外"), ("3", "省外"), ("9", "其他"),
    ]
    for code in ("A1", "A3", "A4", "A15"):
        assert TABLE_OF_FIELD[code].note, code
    assert "A1" in TABLES["yes_no"].note and "A4" in TABLES["yes_no"].note


def test_tick_if_yes_items_have_a_single_yes_code():
    """SPEC §2: A44, A50, A51, A52 are ticked if yes (是则勾选): one code, 01 是."""
    for code in ("A44", "A50", "A51", "A52"):
        table = TABLE_OF_FIELD[code]
        assert [(c.code, c.label) for c in table.codes] == [("01", "是")], code


def test_numbered_risks_use_the_wording_of_the_forms():
    """SPEC §4: the risks ①–⑭ printed on 附件1/3/5, codes "1"–"14"."""
    risks = TABLES["numbered_risks"]
    assert risks.codes_list() == [str(n) for n in range(1, 15)]
    assert risks.label("2") == "住房安全保障风险"
    assert risks.label("5") == "家庭成员未参加城乡居民（职工）基本医疗保险风险"
    assert risks.label("6") == "因病"
    assert risks.label("14") == "其他"
    assert NUMBERED_RISK_MARKS["1"] == "①" and NUMBERED_RISK_MARKS["14"] == "⑭"


def test_numbered_risk_sources_cover_one_to_fourteen():
    """SPEC §4: ① ← A34, ② ← A23, ③ ← A24, ④ ← A25, ⑤ ← A26, ⑥–⑭ ← A27 codes 01–09."""
    assert set(NUMBERED_RISK_SOURCE) == {str(n) for n in range(1, 15)}
    assert NUMBERED_RISK_SOURCE["1"] == ("A34", None)
    assert [NUMBERED_RISK_SOURCE[str(n)] for n in range(2, 6)] == [
        ("A23", "01"), ("A24", "01"), ("A25", "01"), ("A26", "01"),
    ]
    a27 = TABLES["a27_risk_type"]
    for n in range(6, 15):
        field, code = NUMBERED_RISK_SOURCE[str(n)]
        assert field == "A27" and code == f"{n - 5:02d}"
        assert a27.label(code).startswith(TABLES["numbered_risks"].label(str(n)))
    for field, code in NUMBERED_RISK_SOURCE.values():
        assert code is None or code in TABLE_OF_FIELD[field]


def test_case_origin_names_the_four_ways_a_case_starts():
    """SPEC §2.4/§6: a case records its origin; self-declaration channels are their own table."""
    origin = TABLES["case_origin"]
    assert [(c.code, c.label) for c in origin.codes] == [
        ("01", "农户自主申报"), ("02", "干部走访排查"), ("03", "部门筛查预警"), ("04", "社会监督"),
    ]
    channels = [c.label for c in TABLES["declaration_channel"].codes]
    assert any("村（居）委会" in label for label in channels)
    assert any("乡村干部" in label for label in channels)
    assert any("APP" in label for label in channels)
    assert any("12317" in label for label in channels)
    assert origin.note and TABLES["declaration_channel"].note
