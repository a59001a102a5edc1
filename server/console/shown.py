"""How the registry pages (农户, 审核, 冲突) show values to the logged-in user: ID and phone
numbers by the one rule of ``server.domain.personal`` (as the REST schemas' ``ShownIdNumber``
and ``ShownPhone``), codes as their tables' labels (``server.domain.sheets``). Templates call
these helpers; none of them decides anything itself."""

from __future__ import annotations

from server.console import bp, session
from server.domain import codes, personal
from server.domain.fields import Field, Kind
from server.domain.sheets import shown_value


def shown_id(value: str | None) -> str:
    """An ID (or disability card) number as the user may see it."""
    return personal.shown_id_number(value, session.current_user().role) or ""


def shown_phone(value: str | None, household_area: str | None = None) -> str:
    """A phone number as the user may see it: ``household_area`` is the area of the household
    it belongs to (its village's users see it in full), None for a phone that is no
    household's."""
    user = session.current_user()
    return personal.shown_phone(value, user.role, user.area_code, household_area) or ""


def shown_field(spec: Field | None, value: str | None, household_area: str | None = None) -> str:
    """A form's value of field ``spec`` as the user may read it: masked if it is an ID or a
    phone number, else with its code table's labels."""
    if spec is None or not value:
        return value or ""
    if spec.kind is Kind.ID_NUMBER:
        return shown_id(value)
    if spec.kind is Kind.PHONE:
        return shown_phone(value, household_area)
    return shown_value(spec, value)


def code_label(table: str, code: str | None) -> str:
    """The label of ``code`` in the code table ``table`` ("" for none; an unknown code as
    given)."""
    if not code:
        return ""
    found = codes.TABLES[table]
    return found.label(code) if code in found else code


@bp.context_processor
def _helpers() -> dict:
    return {"shown_id": shown_id, "shown_phone": shown_phone, "shown_field": shown_field,
            "code_label": code_label}
