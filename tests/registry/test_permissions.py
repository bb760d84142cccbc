"""Rights in a facility: eHealth's role scopes, for active employees of active facilities only."""

import pytest

from registry.models import Employee, LegalEntity
from registry.permissions import ROLE_SCOPES, can, facilities_of, roles_of, scopes_of
from tests.factories import EmployeeFactory, LegalEntityFactory, PartyFactory, UserFactory

pytestmark = pytest.mark.django_db


def employee(role: str, legal_entity=None, **fields) -> Employee:
    party = PartyFactory(user=UserFactory())
    return EmployeeFactory(
        party=party, employee_type=role, legal_entity=legal_entity or LegalEntityFactory(), **fields
    )


def test_each_role_has_its_scopes_in_its_own_facility_only():
    clinic, other = LegalEntityFactory(), LegalEntityFactory()
    head, hr, doctor = employee("OWNER", clinic), employee("HR", clinic), employee("DOCTOR", clinic)
    user = head.party.user
    assert roles_of(user, clinic) == {"OWNER"}
    assert can(user, clinic, "division:write") and can(user, clinic, "employee_request:write")
    assert not can(user, clinic, "declaration_request:sign")  # only a doctor signs declarations
    assert can(doctor.party.user, clinic, "declaration_request:sign")
    assert not can(doctor.party.user, clinic, "employee_request:write")
    assert can(hr.party.user, clinic, "employee_request:write") and not can(
        hr.party.user, clinic, "otp:write"
    )
    for person in (head, hr, doctor):
        assert scopes_of(person.party.user, other) == frozenset()
        assert list(facilities_of(person.party.user)) == [clinic]


def test_a_person_with_two_roles_has_both_and_works_at_both_facilities():
    clinic, other = LegalEntityFactory(), LegalEntityFactory()
    head = employee("OWNER", clinic)
    EmployeeFactory(party=head.party, legal_entity=clinic, employee_type="DOCTOR")
    EmployeeFactory(party=head.party, legal_entity=other, employee_type="ACCOUNTANT")
    user = head.party.user
    assert scopes_of(user, clinic) == ROLE_SCOPES["OWNER"] | ROLE_SCOPES["DOCTOR"]
    assert scopes_of(user, other) == ROLE_SCOPES["ACCOUNTANT"]
    assert set(facilities_of(user)) == {clinic, other}


@pytest.mark.parametrize(
    "lose",
    ["dismissed", "inactive", "facility closed", "facility deactivated"],
)
def test_a_dismissed_employee_or_a_closed_facility_loses_every_right_at_once(lose, client):
    head = employee("OWNER")
    user, clinic = head.party.user, head.legal_entity
    client.force_login(user)
    assert client.get("/cabinet/").status_code == 200
    if lose == "dismissed":
        Employee.objects.filter(pk=head.pk).update(status=Employee.Status.DISMISSED)
    elif lose == "inactive":
        Employee.objects.filter(pk=head.pk).update(is_active=False)
    elif lose == "facility closed":
        LegalEntity.objects.filter(pk=clinic.pk).update(status=LegalEntity.Status.CLOSED)
    else:
        LegalEntity.objects.filter(pk=clinic.pk).update(is_active=False)
    assert scopes_of(user, clinic) == frozenset()
    assert not facilities_of(user).exists()
    assert client.get("/cabinet/").status_code == 403


def test_nobody_anonymous_has_rights_and_a_misspelt_scope_is_an_error(django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    head = employee("OWNER")
    assert scopes_of(AnonymousUser(), head.legal_entity) == frozenset()
    assert not facilities_of(AnonymousUser()).exists()
    with django_assert_num_queries(1):
        assert can(head.party.user, head.legal_entity, "legal_entity:read")
    with pytest.raises(ValueError):
        can(head.party.user, head.legal_entity, "legal_entity:raed")


def test_the_roles_with_rights_are_the_primary_care_roles_of_the_dictionary():
    """Pharmacy and NHS types of EMPLOYEE_TYPE give no rights in a primary-care facility."""
    import json
    from pathlib import Path

    dictionaries = json.loads((Path(__file__).parents[2] / "registry/data/dictionaries.json").read_text())
    types = next(d for d in dictionaries["dictionaries"] if d["name"] == "EMPLOYEE_TYPE")["values"]
    assert set(ROLE_SCOPES) == {"OWNER", "HR", "DOCTOR", "ADMIN", "ACCOUNTANT", "ASSISTANT"} <= set(types)
    pharmacist = employee("PHARMACIST")
    assert scopes_of(pharmacist.party.user, pharmacist.legal_entity) == frozenset()


def test_a_person_at_two_facilities_switches_cabinets_and_cannot_open_a_third(client):
    head = employee("OWNER")
    other = LegalEntityFactory()
    EmployeeFactory(party=head.party, legal_entity=other, employee_type="ACCOUNTANT")
    stranger = LegalEntityFactory()
    client.force_login(head.party.user)

    page = client.get("/cabinet/")
    assert page.context["legal_entity"] == head.legal_entity  # where they are the head, first
    assert list(page.context["facilities"]) == sorted([head.legal_entity, other], key=lambda f: f.name)
    assert f'<option value="{other.pk}"' in page.content.decode()

    assert client.get(f"/cabinet/?facility={other.pk}").context["legal_entity"] == other
    assert client.get(f"/cabinet/?facility={stranger.pk}").status_code == 403
    # The choice is remembered across pages; a malformed id changes nothing.
    assert client.get("/cabinet/").context["legal_entity"] == other
    assert client.get("/cabinet/?facility=not-an-id").context["legal_entity"] == other
    assert (
        client.get(f"/cabinet/?facility={head.legal_entity.pk}").context["legal_entity"] == head.legal_entity
    )


def test_a_person_at_one_facility_sees_no_switcher(client):
    head = employee("OWNER")
    client.force_login(head.party.user)
    assert 'name="facility"' not in client.get("/cabinet/").content.decode()
