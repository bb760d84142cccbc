"""The patient pages of the cabinet: the exact search, registering a patient (refusals at their fields,
nothing stored), their page (the secret word only to the facility the patient chose), changing their
data, and who may do what (403 and nothing changed otherwise)."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from declarations.models import DeclarationRequest, Person
from tests.factories import EmployeeFactory, UserFactory
from tests.staff_data import rnokpp

from .conftest import party_make

pytestmark = pytest.mark.usefixtures("reference_data")

SEARCH = reverse("declarations:patient-search")
NEW = reverse("declarations:patient-new")
TAX_ID = rnokpp(datetime.date(1990, 4, 12), serial=4321)

# An adult patient as a receptionist types them in.
FORM = {
    "last_name": "Іваненко",
    "first_name": "Петро",
    "second_name": "Миколайович",
    "birth_date": "1990-04-12",
    "gender": "MALE",
    "birth_country": "Україна",
    "birth_settlement": "Київ",
    "tax_id": TAX_ID,
    "document_type": "PASSPORT",
    "document_number": "кв 123456",
    "document_issued_by": "Шевченківський РВ",
    "document_issued_at": "2010-05-01",
    "residence_area": "М.КИЇВ",
    "residence_settlement_type": "CITY",
    "residence_settlement": "Київ",
    "residence_street_type": "STREET",
    "residence_street": "Хрещатик",
    "residence_building": "15",
    "residence_apartment": "23",
    "residence_zip": "01001",
    "registration_same": "on",
    "phone_mobile": "067 111 22 33",
    "email": "Petro@Example.com",
    "preferred_way_communication": "phone",
    "authentication_method": "OTP",
    "authentication_phone": "0671112233",
    "secret": "Квітка2024",
    "emergency_last_name": "Петренко",
    "emergency_first_name": "Ольга",
    "emergency_phone_type": "MOBILE",
    "emergency_phone": "+380501234500",
}

CONFIDANT = {
    "confidant1_last_name": "Іваненко",
    "confidant1_first_name": "Ірина",
    "confidant1_birth_date": "1988-09-03",
    "confidant1_birth_country": "Україна",
    "confidant1_birth_settlement": "Львів",
    "confidant1_gender": "FEMALE",
    "confidant1_secret": "Сонечко7",
    "confidant1_phone": "+380671114455",
    "confidant1_document_type": "NATIONAL_ID",
    "confidant1_document_number": "001234568",
    "confidant1_relationship_type": "BIRTH_CERTIFICATE",
    "confidant1_relationship_number": "І-КВ 123456",
}


def field_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    form = response.context["form"]
    return {name: [error.code for error in errors.as_data()] for name, errors in form.errors.items()}


def login(client, user):
    client.force_login(user)
    return client


def person_rows():
    return list(Person.objects.values())


@pytest.fixture
def receptionist(client, clinic):
    return login(client, clinic.receptionist)


def hr_user(clinic):
    user = UserFactory()
    EmployeeFactory(
        legal_entity=clinic.legal_entity,
        party=party_make(last_name="Бондар", first_name="Ганна", gender="FEMALE", user=user),
        employee_type="HR",
        position="P15",
        start_date=datetime.date(2020, 1, 1),
    )
    return user


def assistant_user(clinic):
    user = UserFactory()
    EmployeeFactory(
        legal_entity=clinic.legal_entity,
        division=clinic.division,
        party=party_make(last_name="Лисенко", first_name="Марія", gender="FEMALE", user=user),
        employee_type="ASSISTANT",
        position="P15",
        start_date=datetime.date(2020, 1, 1),
    )
    return user


# --- Registering --------------------------------------------------------------------------------------


def test_a_receptionist_registers_a_patient_and_sees_their_page(receptionist, clinic):
    response = receptionist.post(NEW, FORM)
    person = Person.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("declarations:patient-detail", args=[person.pk])
    assert person.tax_id == TAX_ID and person.email == "petro@example.com"
    assert person.documents == [
        {
            "type": "PASSPORT",
            "number": "КВ123456",
            "issued_by": "Шевченківський РВ",
            "issued_at": "2010-05-01",
        }
    ]
    assert person.phones == [{"type": "MOBILE", "number": "+380671112233"}]
    assert person.authentication_method == "OTP" and person.authentication_phone == "+380671112233"
    # "the same address": the registration address is the actual one.
    assert [address["type"] for address in person.addresses] == ["RESIDENCE", "REGISTRATION"]
    assert person.addresses[0] | {"type": "REGISTRATION"} == person.addresses[1]
    assert person.secret == "Квітка2024" and person.created_by == clinic.receptionist

    page = receptionist.get(response["Location"]).content.decode()
    assert "Іваненко Петро Миколайович" in page and TAX_ID in page
    assert "Квітка2024" not in page  # no request or declaration with this facility yet


def test_refusals_show_at_their_fields_and_nothing_is_stored(receptionist):
    response = receptionist.post(
        NEW,
        {
            **FORM,
            "tax_id": TAX_ID[:9] + str((int(TAX_ID[9]) + 1) % 10),  # a wrong check digit
            "document_number": "123456",  # not a passport's series and number
            "authentication_phone": "",
            "residence_zip": "1001",
            "secret": "abc",
        },
    )
    errors = field_errors(response)
    assert errors["tax_id"] == ["rnokpp_checksum"]
    assert errors["document_number"] == ["document_number_format"]
    assert errors["authentication_phone"] == ["required"]
    assert errors["residence_zip"] == ["format"]
    assert errors["secret"] == ["min_length"]
    assert "data-error-summary" in response.content.decode()
    assert not Person.objects.exists()


def test_a_child_needs_a_confidant_person_and_is_registered_with_one(receptionist):
    child = {
        **FORM,
        "first_name": "Марійка",
        "gender": "FEMALE",
        "birth_date": (datetime.date.today() - datetime.timedelta(days=7 * 365)).isoformat(),
        "tax_id": "",
        "document_type": "BIRTH_CERTIFICATE",
        "document_number": "І-КВ 123456",
        "document_issued_at": "2019-05-01",
        "authentication_phone": "+380671114455",
    }
    errors = field_errors(receptionist.post(NEW, child))
    assert errors == {"confidant1_last_name": ["confidant_required"]}
    assert not Person.objects.exists()

    incomplete = {**child, **CONFIDANT, "confidant1_relationship_number": "", "confidant1_secret": ""}
    errors = field_errors(receptionist.post(NEW, incomplete))
    assert errors == {"confidant1_relationship_number": ["required"], "confidant1_secret": ["required"]}
    assert not Person.objects.exists()

    assert receptionist.post(NEW, {**child, **CONFIDANT}).status_code == 302
    person = Person.objects.get()
    (confidant,) = person.confidant_person
    assert confidant["relation_type"] == "PRIMARY" and confidant["last_name"] == "Іваненко"
    assert confidant["documents_relationship"] == [{"type": "BIRTH_CERTIFICATE", "number": "І-КВ 123456"}]
    assert "secret" not in confidant and confidant["secret_encrypted"]


def test_offline_confirmation_needs_no_phone(receptionist):
    response = receptionist.post(
        NEW, {**FORM, "authentication_method": "OFFLINE", "authentication_phone": "+380671112233"}
    )
    assert response.status_code == 302
    person = Person.objects.get()
    assert person.authentication_method == "OFFLINE" and person.authentication_phone == ""


def test_a_registered_patient_is_refused_at_the_rnokpp(receptionist, patient):
    response = receptionist.post(NEW, {**FORM, "tax_id": patient.tax_id, "document_number": "КВ654321"})
    assert field_errors(response) == {"tax_id": ["person_exists"]}
    assert Person.objects.count() == 1


def test_the_search_carries_names_over_to_the_registration_form_outside_the_url(receptionist):
    page = search(receptionist, phone_number="+380670000000").content.decode()
    assert f'href="{NEW}?from=search"' in page and "last_name=" not in page

    form = receptionist.get(NEW, {"from": "search"}).context["form"]
    assert form["last_name"].value() == "Іваненко" and form["birth_date"].value() == "1990-04-12"
    assert form["tax_id"].value() in (None, "")  # identifiers stay typed
    assert receptionist.get(NEW).context["form"]["last_name"].value() is None  # not from the search


# --- The search ---------------------------------------------------------------------------------------


def search(client, **criteria):
    query = {"last_name": "Іваненко", "first_name": "Петро", "birth_date": "1990-04-12", **criteria}
    return client.post(SEARCH, query)


def test_the_search_finds_the_patient_exactly_and_offers_to_choose_them(receptionist, patient):
    response = search(receptionist, tax_id=patient.tax_id)
    assert response.context["people"] == [patient]
    html = response.content.decode()
    assert reverse("declarations:patient-detail", args=[patient.pk]) in html
    assert f"?person={patient.pk}" in html  # "choose": a declaration request for them
    assert patient.secret not in html and patient.tax_id not in html.split('id="results-title"')[1]

    assert search(receptionist, last_name="ІВАНЕНКО", phone_number="067 111 22 33").context["people"] == [
        patient
    ]
    assert search(receptionist, document_number="КВ 123456").context["people"] == [patient]


@pytest.mark.parametrize(
    "criteria",
    [
        {"last_name": "Іван"},
        {"first_name": "Петр"},
        {"birth_date": "1990-04-11"},
        {"phone_number": "+380671112234"},
    ],
)
def test_a_partial_or_wrong_value_finds_nobody(receptionist, patient, criteria):
    identifier = {} if "phone_number" in criteria else {"tax_id": patient.tax_id}
    response = search(receptionist, **identifier, **criteria)
    assert response.context["people"] == []
    assert "Іваненко Петро" not in response.content.decode()


def test_a_search_without_an_identifier_is_refused_and_nothing_is_listed(receptionist, patient):
    response = search(receptionist)
    assert response.context["people"] is None
    assert [error.code for error in response.context["form"].non_field_errors().as_data()] == [
        "identifier_required"
    ]
    assert "Іваненко Петро" not in response.content.decode()
    assert receptionist.get(SEARCH).context["people"] is None  # no browsing before a search


def test_identifiers_never_stand_in_a_url(clinic, receptionist, patient):
    """The search is a POST: its identifiers reach neither the access log nor the header's language form
    (which echoes the URL); identifiers put in a URL are not searched for."""
    html = search(receptionist, tax_id=patient.tax_id, phone_number=patient.authentication_phone).content
    form = html.decode().split('id="results-title"')[0]
    assert 'method="post"' in form and "csrfmiddlewaretoken" in form
    assert f'name="next" type="hidden" value="{SEARCH}"' in html.decode()

    query = {
        "last_name": "Іваненко",
        "first_name": "Петро",
        "birth_date": "1990-04-12",
        "tax_id": patient.tax_id,
    }
    response = receptionist.get(SEARCH, query)
    assert response.context["people"] is None and not response.context["form"].is_bound

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(clinic.receptionist)
    assert strict.post(SEARCH, query).status_code == 403


# --- The patient's page and the secret word -----------------------------------------------------------


def pending_request(clinic, person) -> DeclarationRequest:
    return DeclarationRequest.objects.create(
        legal_entity=clinic.legal_entity,
        employee=clinic.family_doctor,
        division=clinic.division,
        person=person,
        person_key=f"tax_id:{person.tax_id}",
        data={},
        declaration_number="0001-TEST-0002",
        seed="seed",
        start_date=datetime.date.today(),
        end_date=datetime.date.today(),
        expires_at=datetime.datetime.now(tz=datetime.UTC),
    )


def test_the_secret_word_shows_only_to_the_facility_the_patient_is_choosing(
    client, clinic, other_clinic, patient
):
    detail = reverse("declarations:patient-detail", args=[patient.pk])
    pending_request(clinic, patient)
    assert patient.secret in login(client, clinic.receptionist).get(detail).content.decode()
    other = Client()
    page = login(other, other_clinic.receptionist).get(detail).content.decode()
    assert "Іваненко Петро Миколайович" in page and patient.secret not in page
    assert (
        patient.secret
        not in client.get(reverse("declarations:patient-edit", args=[patient.pk])).content.decode()
    )


# --- Changing -----------------------------------------------------------------------------------------


def test_a_change_starts_from_the_stored_data_and_keeps_an_empty_secret(receptionist, patient):
    edit = reverse("declarations:patient-edit", args=[patient.pk])
    form = receptionist.get(edit).context["form"]
    typed = {name: form[name].value() for name in form.fields}
    typed = {
        name: ("on" if value is True else value)
        for name, value in typed.items()
        if value not in (None, False)
    }
    assert typed["tax_id"] == patient.tax_id and typed["document_number"] == "КВ123456"
    assert "registration_same" not in typed  # the stored registration address differs
    assert not typed.get("secret")

    response = receptionist.post(edit, {**typed, "email": "new.address@example.com", "secret": ""})
    assert response.status_code == 302, field_errors(response)
    patient.refresh_from_db()
    assert patient.email == "new.address@example.com" and patient.secret == "Квітка2024"


def test_an_invalid_change_changes_nothing(receptionist, patient):
    edit = reverse("declarations:patient-edit", args=[patient.pk])
    before = person_rows()
    response = receptionist.post(
        edit, {**FORM, "tax_id": patient.tax_id, "emergency_phone": "12345", "secret": ""}
    )
    assert field_errors(response) == {"emergency_phone": ["phone_format"]}
    assert person_rows() == before


# --- Who may do what ----------------------------------------------------------------------------------


def test_an_hr_officer_without_patient_rights_is_refused_everywhere_and_changes_nothing(
    client, clinic, patient
):
    login(client, hr_user(clinic))
    detail = reverse("declarations:patient-detail", args=[patient.pk])
    edit = reverse("declarations:patient-edit", args=[patient.pk])
    before = person_rows()
    assert search(client, tax_id=patient.tax_id).status_code == 403
    assert client.get(detail).status_code == 403
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {**FORM, "tax_id": TAX_ID, "document_number": "КВ000111"}).status_code == 403
    assert client.post(edit, {**FORM, "tax_id": patient.tax_id, "email": "x@example.com"}).status_code == 403
    assert person_rows() == before


def test_an_assistant_reads_but_does_not_register_or_change(client, clinic, patient):
    login(client, assistant_user(clinic))
    edit = reverse("declarations:patient-edit", args=[patient.pk])
    response = search(client, tax_id=patient.tax_id)
    assert response.context["people"] == [patient]
    assert f"?person={patient.pk}" not in response.content.decode()  # no declaration_request:write
    assert client.get(reverse("declarations:patient-detail", args=[patient.pk])).status_code == 200
    before = person_rows()
    assert client.post(NEW, {**FORM, "document_number": "КВ000111"}).status_code == 403
    assert client.post(edit, {**FORM, "tax_id": patient.tax_id, "email": "x@example.com"}).status_code == 403
    assert person_rows() == before


def test_a_user_of_another_facility_cannot_act_in_this_one(client, clinic, other_clinic, patient):
    login(client, other_clinic.receptionist)
    facility = {"facility": str(clinic.legal_entity.pk)}
    edit = reverse("declarations:patient-edit", args=[patient.pk])
    before = person_rows()
    assert client.get(SEARCH, facility).status_code == 403
    assert client.post(f"{NEW}?facility={clinic.legal_entity.pk}", FORM).status_code == 403
    assert (
        client.post(
            f"{edit}?facility={clinic.legal_entity.pk}", {**FORM, "tax_id": patient.tax_id}
        ).status_code
        == 403
    )
    assert person_rows() == before


def test_anonymous_visitors_are_sent_to_sign_in_and_a_post_without_csrf_is_refused(clinic, patient):
    anonymous = Client()
    response = anonymous.get(SEARCH)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert anonymous.post(NEW, FORM).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(clinic.receptionist)
    assert strict.post(NEW, FORM).status_code == 403
    assert Person.objects.count() == 1


def test_an_unknown_patient_is_404(receptionist):
    assert (
        receptionist.get(
            reverse("declarations:patient-detail", args=["00000000-0000-4000-8000-000000000000"])
        ).status_code
        == 404
    )
