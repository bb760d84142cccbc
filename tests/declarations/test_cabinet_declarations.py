"""The facility cabinet's section of patients and declarations (registered by the declarations app into
`registry.cabinet`, which imports nothing of it): a doctor sees their count against their limit and
whether they accept new patients; a receptionist the links; a person without the rights nothing."""

import re

from django.test import Client
from django.urls import reverse

from registry.models import Employee, GlobalParameter
from tests.factories import EmployeeFactory, UserFactory

from .conftest import party_make
from .lifecycle_data import declaration_make, request_make

CABINET = reverse("registry:cabinet")


def section_html(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(CABINET)
    assert response.status_code == 200
    html = response.content.decode()
    found = re.search(
        r'<section class="panel" aria-labelledby="declarations-section-title">.*?</section>', html, re.S
    )
    return found.group() if found else ""


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_doctor_sees_their_declarations_against_their_limit(clinic, other_clinic):
    for _ in range(2):
        declaration_make(clinic)
    declaration_make(clinic, status="pending_verification")
    declaration_make(clinic, status="terminated")  # ended: not counted
    request_make(clinic, status="APPROVED")  # the patient confirmed: counted
    request_make(clinic, status="NEW")  # not yet: not counted
    declaration_make(clinic, employee=clinic.therapist)  # a colleague's

    section = section_html(clinic.family_doctor.party.user)

    assert "4 з 1800 декларацій" in text(section)
    assert "приймає нових пацієнтів" in text(section) and "не приймає" not in text(section)
    my_list = f"{reverse('declarations:declaration-list')}?employee={clinic.family_doctor.pk}"
    assert f'href="{my_list}"' in section


def test_a_doctor_whose_list_is_full_is_told_they_do_not_accept_new_patients(clinic):
    Employee.objects.filter(pk=clinic.paediatrician.pk).update(accepts_new_patients=False)
    section = text(section_html(clinic.paediatrician.party.user))
    assert "0 з 900 декларацій" in section
    assert "не приймає нових пацієнтів" in section


def test_the_limit_follows_the_global_parameter_in_plural_words(clinic):
    GlobalParameter.objects.filter(name="declaration_limit_therapist").update(value="21")
    declaration_make(clinic, employee=clinic.therapist)
    assert "1 з 21 декларації" in text(section_html(clinic.therapist.party.user))


def test_a_receptionist_sees_the_links_but_no_count(clinic):
    section = section_html(clinic.receptionist)
    for name in (
        "declarations:patient-search",
        "declarations:patient-new",
        "declarations:request-list",
        "declarations:declaration-list",
    ):
        assert f'href="{reverse(name)}"' in section
    assert 'class="doctor-limit"' not in section


def test_a_person_without_declaration_rights_sees_no_section(clinic):
    accountant = UserFactory()
    EmployeeFactory(
        legal_entity=clinic.legal_entity,
        party=party_make(last_name="Рахівник", first_name="Олег", user=accountant),
        employee_type="ACCOUNTANT",
        position="P15",
    )
    assert section_html(accountant) == ""


def test_the_registry_imports_nothing_of_declarations():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "registry"
    importing = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if re.search(r"^\s*(from|import)\s+declarations\b", path.read_text(), re.M)
    ]
    assert importing == []
