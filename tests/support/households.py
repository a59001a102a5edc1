"""Example households shared by the tests: ID numbers, members and fields by name (as the server
reads them), and a valid household form's answers by instance path for a given village.

All are visited on 2021-05-12 (the household form's income period: 2020-05 to 2021-04).
"""

from __future__ import annotations

YES, NO = "01", "02"

# Two households of the ``households`` entity list (households.csv) of the follow-up forms.
HH1, HH2 = "7d9f0c52-1111-4c1e-9a51-000000000001", "7d9f0c52-2222-4c1e-9a51-000000000002"


def id_number(area: str, birth: str, sequence: int) -> str:
    """A well-formed 18-character ID (GB 11643 check character) for test people."""
    body = f"{area}{birth}{sequence:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


HEAD_ID = id_number("430421", "19800101", 11)  # 41 at the visit, digit 17 = 1: male
SPOUSE_ID = id_number("430421", "19820202", 22)  # 39, digit 17 = 2: female
DAUGHTER_ID = id_number("430421", "20150601", 34)  # 5 (birthday after the visit day), female

# Members by field name, as server.domain.survey reads them: head, spouse, a son under 16
# (无劳动力) without basic medical insurance (A17 = 否).
HEAD = {"a5_name": "张三", "a7_id_number": HEAD_ID, "a8_relation": "01",
        "a14_labour_skill": "01", "a17_basic_medical_insurance": "01"}
SPOUSE = {"a5_name": "李四", "a7_id_number": SPOUSE_ID, "a8_relation": "02",
          "a14_labour_skill": "05", "a17_basic_medical_insurance": "01"}
CHILD = {"a5_name": "张小", "a7_id_number": id_number("430421", "20150303", 31),
         "a8_relation": "03", "a14_labour_skill": "04", "a17_basic_medical_insurance": "02"}

# A household's own fields by name (no address): not formerly poor, risk 01;
# A33 = 12000 + 3000 + 0 + 1500 − 1000 = 15500, A37 = 15500 + 0 − 2000 = 13500.
SURVEY_FIELDS = {"visit_date": "2021-05-12", "a4_formerly_poor": "02",
                 "a23_housing_unsafe": "02", "a24_school_dropout": "02", "a25_water_unsafe": "02",
                 "a27_risk_types": "01", "a28_wages": "12000", "a29_business_income": "3000",
                 "a30_property_income": "0", "a31_transfer_income": "1500",
                 "a32_business_expenses": "1000", "a35_insurance_claims": "0",
                 "a36_compliant_out_of_pocket": "2000"}


def address(village: str) -> dict[str, str]:
    """The address fields (县/乡/村/组) of the village's first 村民小组: codes by field name."""
    return {"addr_county": village[:6], "addr_township": village[:9], "addr_village": village,
            "addr_group": f"{village}001"}


def member_answers(n: int, name: str, id_no: str, relation: str, skill: str,
                   **changes: str) -> dict[str, str]:
    """The household form's answers for member ``n`` (A5–A22), ``changes`` by field name."""
    p = f"/data/members[{n}]"
    answers = {
        f"{p}/a5_name": name, f"{p}/has_id_card": YES, f"{p}/a7_id_number": id_no,
        f"{p}/a8_relation": relation, f"{p}/a9_ethnicity": "01",
        f"{p}/a10_political_status": "06", f"{p}/a11_education": "03",
        f"{p}/a12_schooling": "99", f"{p}/a13_health": "01", f"{p}/a14_labour_skill": skill,
        f"{p}/a15_work_area": "9", f"{p}/a16_work_months": "0",
        f"{p}/a17_basic_medical_insurance": YES, f"{p}/a18_serious_illness_insurance": YES,
        f"{p}/a19_basic_pension": NO, f"{p}/a20_minimum_living_allowance": NO,
        f"{p}/a21_extreme_poverty_support": NO, f"{p}/a22_relocated": NO, f"{p}/deceased": NO,
    }
    answers.update({f"{p}/{k}": v for k, v in changes.items()})
    return answers


def valid_household(village: str) -> dict[str, str]:
    """The household form's answers, by instance path, for a household in ``village``'s first
    group: head (works 3.5 months in the province), spouse, a daughter under 16 (无劳动力)."""
    answers = {"/data/resurvey": NO, "/data/visit_date": "2021-05-12"}
    answers |= {f"/data/address/{name}": code for name, code in address(village).items()}
    answers |= {"/data/phone": "13812345678", "/data/a1_resettlement_site": NO,
                "/data/a4_formerly_poor": YES}
    answers |= member_answers(1, "张三", HEAD_ID, "01", "01", a15_work_area="2",
                              a15_work_place="湖南省长沙市雨花区", a16_work_months="3.5")
    answers |= member_answers(2, "李四", SPOUSE_ID, "02", "05")
    answers |= member_answers(3, "张小妹", DAUGHTER_ID, "04", "04", a12_schooling="03")
    answers |= {
        "/data/members_check": "OK",
        "/data/a23_housing_unsafe": YES, "/data/a24_school_dropout": NO,
        "/data/a25_water_unsafe": NO,
        "/data/a27_risk_types": "01 09", "/data/a27_other_text": "房屋漏雨",
        "/data/severe_difficulty": NO,
        "/data/a28_wages": "12000", "/data/a29_business_income": "3000",
        "/data/a30_property_income": "0", "/data/a31_transfer_income": "1500.5",
        "/data/a32_business_expenses": "500",
        "/data/a35_insurance_claims": "1000", "/data/a36_compliant_out_of_pocket": "8000",
        "/data/a3_monitoring_type": "01",
        "/data/photo_hukou": "hukou.jpg", "/data/id_photos[1]/photo_id_card": "id.jpg",
        "/data/photo_house": "house.jpg", "/data/visit_location": "26.9 112.6 60 5",
        "/data/a55_contact_name": "王芳", "/data/a55_contact_phone": "0734-1234567",
        "/data/applicant_can_sign": YES, "/data/sig_applicant": "sig.png",
        "/data/team_count": "2",
        "/data/team[1]/team_member_name": "赵一", "/data/team[1]/team_member_role": "01",
        "/data/team[1]/team_signature": "t1.png",
        "/data/team[2]/team_member_name": "钱二", "/data/team[2]/team_member_role": "03",
        "/data/team[2]/team_signature": "t2.png",
    }
    return answers


def changed_answers(answers: dict[str, str], changes: dict[str, str] | None = None,
                    drop: tuple[str, ...] = ()) -> dict[str, str]:
    """A copy of ``answers`` without those under the paths ``drop``, ``changes`` made in place
    (new ones appended: the engine gives the answers in this order)."""
    answers = dict(answers)
    for path in [p for p in answers if p.startswith(drop)] if drop else []:
        del answers[path]
    answers.update(changes or {})
    return answers
