"""Who uses the server (SPEC §1): the roles, their Chinese names, and which roles collect on the
phone and which review. Every user is bound to one area and sees only what lies inside it."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    HELPER = "helper"  # 信息采集员: fills forms on the phone
    VILLAGE = "village"  # 村两委 / 驻村工作队
    TOWNSHIP = "township"  # 乡镇审核
    COUNTY = "county"  # 县乡村振兴局
    ADMIN = "admin"


ROLE_NAMES = {
    Role.HELPER: "信息采集员",
    Role.VILLAGE: "村级",
    Role.TOWNSHIP: "乡镇",
    Role.COUNTY: "县级",
    Role.ADMIN: "管理员",
}

# Roles whose users collect data with ODK Collect and so see forms in the formList.
COLLECTING_ROLES = frozenset({Role.HELPER, Role.VILLAGE})
# Roles that review what helpers sent (invalid or held submissions, conflicts, likely
# duplicates) inside their area. Helpers collect; they do not review.
REVIEWING_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN})
