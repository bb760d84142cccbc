"""Submitting an application and its checks (signature → KVEDs → state register), web channel."""

import re

import pytest
from django.core.exceptions import ValidationError

from ehealth_portal.models import Email
from ehealth_portal.validators import rnokpp_check_digit
from registry.models import (
    ApplicationCheck,
    Division,
    Employee,
    EmployeeRequest,
    LegalEntity,
    Party,
    RegistrationApplication,
)
from registry.selectors import employee_request_by_token, registration_application_by_token
from registry.services import (
    registration_application_check,
    registration_application_decide,
    registration_application_recheck,
    registration_application_submit,
)
from registry.tasks import registration_application_check_task
from tests.factories import SuperuserFactory, UserFactory

from .conftest import CLINIC_EDRPOU, DEMO_CLINIC, FOP_HEAD, HEAD_EMAIL

pytestmark = pytest.mark.django_db

FACILITY_MODELS = (LegalEntity, Division, Party, Employee, EmployeeRequest)
NOTHING = {model.__name__: 0 for model in FACILITY_MODELS}


def created():
    return {model.__name__: model.objects.count() for model in FACILITY_MODELS}


def link_token(body: str, kind: str) -> str:
    return re.search(rf"http://127\.0\.0\.1:8000/\S*{kind}/([\w-]+)/", body)[1]


def submit(
    registration, pki, run_on_commit, *, data=None, signer=None, content=None, detached=False, **kwargs
):
    """Submit through the web channel and run what is queued after commit (the checks, the emails)."""
    data = data if data is not None else registration.payload()
    content = content if content is not None else registration.canonical(data)
    envelope = pki.sign(signer or pki.person(), content, detached=detached)
    application, token = run_on_commit(
        registration_application_submit, signed_envelope=envelope, data=data, **kwargs
    )
    application.refresh_from_db()
    return application, token


def steps(application):
    return [(check.step, check.outcome) for check in application.checks.all()]


# --- Success -------------------------------------------------------------------------------------------


def test_a_valid_application_registers_the_facility_and_invites_the_head(
    registration, pki, run_on_commit, outbox
):
    registration.register_clinic()
    submitter = UserFactory()
    application, status_token = submit(registration, pki, run_on_commit, submitted_by=submitter)

    assert application.status == RegistrationApplication.Status.APPROVED
    assert steps(application) == [("SIGNATURE", "PASSED"), ("KVEDS", "PASSED"), ("STATE_REGISTER", "PASSED")]
    assert application.signer["drfo"] == "3185409128"
    # The head's person is made when they accept the invitation (as eHealth makes it from the request).
    assert created() == {**NOTHING, "LegalEntity": 1, "Division": 1, "EmployeeRequest": 1}

    facility = LegalEntity.objects.get()
    assert application.legal_entity == facility
    assert (facility.edrpou, facility.status, facility.is_active, facility.nhs_verified) == (
        CLINIC_EDRPOU,
        "ACTIVE",
        True,
        False,
    )
    assert facility.created_by == submitter
    assert facility.license["order_no"] == "15-Л"
    assert facility.accreditation["category"] == "FIRST"
    division = Division.objects.get()
    assert (division.legal_entity, float(division.latitude), float(division.longitude)) == (
        facility,
        50.4501,
        30.5234,
    )
    request = EmployeeRequest.objects.get()
    party = request.data["party"]
    assert (party["tax_id"], party["birth_date"]) == ("3185409128", "1980-05-17")
    assert (request.employee_type, request.position, request.email, request.status) == (
        "OWNER",
        "P2",
        HEAD_EMAIL,
        "NEW",
    )
    assert request.division == division
    assert request.data["party"]["email"] == HEAD_EMAIL and request.data["position"] == "P2"
    assert 29 <= (request.expires_at - request.created_at).days <= 30

    # Two emails to the head: received (with the status link), then the single invitation.
    assert [message.to for message in outbox] == [[HEAD_EMAIL], [HEAD_EMAIL]]
    received, invitation = outbox
    assert link_token(received.body, "register/status") == status_token
    assert link_token(invitation.body, "register/status") == status_token
    assert registration_application_by_token(token=status_token) == application
    invitation_token = link_token(invitation.body, "invite")
    assert employee_request_by_token(token=invitation_token) == (request, None)
    assert invitation_token not in request.token_hash and status_token not in application.status_token_hash


def test_the_check_is_idempotent(registration, pki, run_on_commit, outbox):
    registration.register_clinic()
    application, _token = submit(registration, pki, run_on_commit)
    registration_application_check(application_id=application.pk)
    registration_application_check_task(str(application.pk))
    assert created()["LegalEntity"] == 1
    assert application.checks.count() == 3
    assert len(outbox) == 2


def test_names_are_compared_tolerantly(registration, pki, run_on_commit):
    """Case, apostrophe variants and quotes: the certificate, the payload and the register agree."""
    registration.register_clinic(
        name='Товариство з обмеженою відповідальністю "Демо Клініка"', heads=["Мар’яненко Олена Петрівна"]
    )
    data = registration.payload()
    data["owner"]["last_name"] = "Мар'яненко"
    signer = pki.person(surname="МАРʼЯНЕНКО")
    application, _token = submit(registration, pki, run_on_commit, data=data, signer=signer)
    assert application.status == "APPROVED", application.reasons


def test_a_detached_signature_of_the_document_is_accepted(registration, pki, run_on_commit):
    registration.register_clinic()
    application, _token = submit(registration, pki, run_on_commit, detached=True)
    assert application.status == "APPROVED"


def test_the_short_name_of_the_register_matches_too(registration, pki, run_on_commit):
    registration.register_clinic(
        name="ІНША ПОВНА НАЗВА", short_name="ТОВАРИСТВО З ОБМЕЖЕНОЮ ВІДПОВІДАЛЬНІСТЮ «ДЕМО КЛІНІКА»"
    )
    application, _token = submit(registration, pki, run_on_commit)
    assert application.status == "APPROVED"


# --- Refusals ------------------------------------------------------------------------------------------


def flip_last_byte(envelope: bytes) -> bytes:
    return envelope[:-1] + bytes([envelope[-1] ^ 0x01])


def case_changed_byte(registration, pki):
    data = registration.payload()
    return {"data": data, "envelope": flip_last_byte(pki.sign(pki.person(), registration.canonical(data)))}


def case_other_content_attached(registration, pki):
    data = registration.payload()
    other = {**data, "email": "other@clinic.example"}
    return {"data": data, "envelope": pki.sign(pki.person(), registration.canonical(other))}


def case_other_content_detached(registration, pki):
    data = registration.payload()
    other = {**data, "kveds": ["86.21"]}
    return {"data": data, "envelope": pki.sign(pki.person(), registration.canonical(other), detached=True)}


def signed_by(**fields):
    def case(registration, pki):
        data = registration.payload()
        return {"data": data, "envelope": pki.sign(pki.person(**fields), registration.canonical(data))}

    return case


def with_data(**changes):
    def case(registration, pki):
        data = registration.payload(**changes)
        return {"data": data, "envelope": pki.sign(pki.person(), registration.canonical(data))}

    return case


REFUSALS = {
    # name: (case, register record fields or None for no record, step, code, field)
    "changed byte": (case_changed_byte, {}, "SIGNATURE", "bad_signature", "signed_legal_entity_request"),
    "attached content differs": (
        case_other_content_attached,
        {},
        "SIGNATURE",
        "signed_content_differs",
        "signed_legal_entity_request",
    ),
    "detached content differs": (
        case_other_content_detached,
        {},
        "SIGNATURE",
        "signed_content_differs",
        "signed_legal_entity_request",
    ),
    "signer is not the head": (
        signed_by(drfo="2904501273"),
        {},
        "SIGNATURE",
        "signer_not_head",
        "owner.tax_id",
    ),
    "signer without RNOKPP": (signed_by(drfo=None), {}, "SIGNATURE", "signer_drfo_missing", "owner.tax_id"),
    "signer of another organisation": (
        signed_by(edrpou="14360570"),
        {},
        "SIGNATURE",
        "signer_edrpou_mismatch",
        "edrpou",
    ),
    "signer surname differs": (
        signed_by(surname="Коваль"),
        {},
        "SIGNATURE",
        "signer_surname_mismatch",
        "owner.last_name",
    ),
    "signer given names differ": (
        signed_by(given_names="Олена Іванівна"),
        {},
        "SIGNATURE",
        "signer_given_names_mismatch",
        "owner.first_name",
    ),
    "unknown KVED": (with_data(kveds=["86.21", "99.99"]), {}, "KVEDS", "kved_unknown", "kveds"),
    "no primary-care KVED": (with_data(kveds=["86.90"]), {}, "KVEDS", "kved_primary_care_missing", "kveds"),
    "EDRPOU not in the register": (with_data(), None, "STATE_REGISTER", "edr_not_found", "edrpou"),
    "terminated in the register": (
        with_data(),
        {"state": "припинено"},
        "STATE_REGISTER",
        "edr_not_registered",
        "edrpou",
    ),
    "head is not a signatory": (
        with_data(),
        {"heads": ["ІВАНЕНКО ІВАН ІВАНОВИЧ"]},
        "STATE_REGISTER",
        "edr_head_mismatch",
        "owner",
    ),
    "name differs from the register": (
        with_data(),
        {"name": "ТОВ «ІНША КЛІНІКА»", "short_name": ""},
        "STATE_REGISTER",
        "edr_name_mismatch",
        "name",
    ),
}


SIGNATURE_REFUSALS = {name: case for name, case in REFUSALS.items() if case[2] == "SIGNATURE"}
CHECK_REFUSALS = {name: case for name, case in REFUSALS.items() if case[2] != "SIGNATURE"}


@pytest.mark.parametrize("name", SIGNATURE_REFUSALS)
def test_a_signature_refusal_stores_nothing_and_mails_nobody(registration, pki, run_on_commit, outbox, name):
    """A bad signature, or one not made by the head, is refused at its path before anything is stored:
    nobody is mailed (the head named in the payload never signed anything)."""
    case, record, _step, code, field = SIGNATURE_REFUSALS[name]
    registration.register_clinic(**record)
    submission = case(registration, pki)
    with pytest.raises(ValidationError) as error:
        run_on_commit(
            registration_application_submit, signed_envelope=submission["envelope"], data=submission["data"]
        )
    assert code in [item.code for item in error.value.error_dict[field]]
    assert not RegistrationApplication.objects.exists()
    assert created() == NOTHING
    assert outbox == []
    assert not Email.objects.exists()


@pytest.mark.parametrize("name", CHECK_REFUSALS)
def test_each_refusal_rejects_with_its_reason_and_leaves_nothing_behind(
    registration, pki, run_on_commit, outbox, name
):
    case, record, step, code, field = CHECK_REFUSALS[name]
    if record is not None:
        registration.register_clinic(**record)
    submission = case(registration, pki)
    application, status_token = run_on_commit(
        registration_application_submit, signed_envelope=submission["envelope"], data=submission["data"]
    )
    application.refresh_from_db()

    assert application.status == RegistrationApplication.Status.REJECTED
    assert [(reason["step"], reason["code"], reason["field"]) for reason in application.reasons] == [
        (step, code, field)
    ]
    assert application.reasons[0]["message"]
    order = ["SIGNATURE", "KVEDS", "STATE_REGISTER"]
    expected_steps = [(earlier, "PASSED") for earlier in order[: order.index(step)]] + [(step, "FAILED")]
    assert steps(application) == expected_steps
    assert application.checks.get(step=step).details == application.reasons
    assert created() == NOTHING
    # The received email, then the rejection with the reason and the status link: the signer is the head.
    assert len(outbox) == 2
    rejection = outbox[1].body
    assert application.reasons[0]["message"] in rejection
    assert link_token(rejection, "register/status") == status_token


def test_several_signer_problems_are_reported_together(registration, pki, run_on_commit):
    registration.register_clinic()
    with pytest.raises(ValidationError) as error:
        submit(
            registration,
            pki,
            run_on_commit,
            signer=pki.person(drfo="2904501273", surname="Коваль", edrpou="14360570"),
        )
    assert {path: [item.code for item in items] for path, items in error.value.error_dict.items()} == {
        "owner.tax_id": ["signer_not_head"],
        "edrpou": ["signer_edrpou_mismatch"],
        "owner.last_name": ["signer_surname_mismatch"],
    }
    assert not RegistrationApplication.objects.exists()


def test_an_untrusted_certificate_is_refused(registration, pki, run_on_commit, settings, tmp_path):
    from cryptography.hazmat.primitives import serialization

    from ehealth_portal.signatures.devpki import ca_create, key_generate

    registration.register_clinic()
    other_root = ca_create("Somebody Else", key=key_generate("ec"))
    settings.SIGNATURE_CA_BUNDLE = tmp_path / "bundle.pem"
    settings.SIGNATURE_CA_BUNDLE.write_bytes(other_root.certificate.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(ValidationError) as error:
        submit(registration, pki, run_on_commit)
    assert [item.code for item in error.value.error_dict["signed_legal_entity_request"]] == ["unknown_ca"]
    assert not RegistrationApplication.objects.exists()
    assert created() == NOTHING


def test_invalid_data_is_refused_at_submission_and_nothing_is_stored(registration, pki):
    data = registration.payload()
    data["owner"]["tax_id"] = "1234567890"
    with pytest.raises(ValidationError) as error:
        registration_application_submit(signed_envelope=b"whatever", data=data)
    assert error.value.error_dict["owner.tax_id"][0].code == "rnokpp_checksum"
    assert not RegistrationApplication.objects.exists()


def test_a_code_with_an_active_facility_is_refused_at_submission_and_at_the_check(
    registration, pki, run_on_commit, outbox
):
    registration.register_clinic()
    data = registration.payload()
    envelope = pki.sign(pki.person(), registration.canonical(data))
    # Two applications for the same clinic are submitted before either is checked.
    first, _token = registration_application_submit(signed_envelope=envelope, data=data)
    second, _token = registration_application_submit(signed_envelope=envelope, data=data)
    assert registration_application_check(application_id=first.pk).status == "APPROVED"
    second = registration_application_check(application_id=second.pk)
    assert second.status == "REJECTED"
    assert [(r["step"], r["code"]) for r in second.reasons] == [("STATE_REGISTER", "legal_entity_exists")]
    assert created()["LegalEntity"] == 1

    with pytest.raises(ValidationError) as error:
        registration_application_submit(signed_envelope=envelope, data=data)
    assert error.value.error_dict["edrpou"][0].code == "legal_entity_exists"
    assert RegistrationApplication.objects.count() == 2


def test_a_rejected_applicant_can_submit_again(registration, pki, run_on_commit):
    registration.register_clinic()
    rejected, _token = submit(registration, pki, run_on_commit, data=registration.payload(kveds=["86.90"]))
    assert rejected.status == "REJECTED"
    approved, _token = submit(registration, pki, run_on_commit)
    assert approved.status == "APPROVED"
    assert rejected.pk != approved.pk


# --- Sole proprietors (ФОП) and operators ----------------------------------------------------------------


def submit_fop(registration, pki, run_on_commit):
    data = registration.fop_payload()
    return submit(registration, pki, run_on_commit, data=data, signer=pki.person(**FOP_HEAD))


def test_a_sole_proprietor_found_once_in_the_register_is_registered(registration, pki, run_on_commit):
    registration.register_fop()
    registration.register_fop(state="припинено")  # an old, terminated registration of the same person
    application, _token = submit_fop(registration, pki, run_on_commit)
    assert application.status == "APPROVED", application.reasons
    assert LegalEntity.objects.get().edrpou == FOP_HEAD["drfo"]


@pytest.mark.parametrize(("registered", "code"), [(0, "fop_not_found"), (2, "fop_ambiguous")])
def test_a_sole_proprietor_not_found_or_found_twice_waits_for_an_operator(
    registration, pki, run_on_commit, outbox, registered, code
):
    for _index in range(registered):
        registration.register_fop()
    application, _token = submit_fop(registration, pki, run_on_commit)
    assert application.status == RegistrationApplication.Status.WAITING_OPERATOR
    assert steps(application) == [("SIGNATURE", "PASSED"), ("KVEDS", "PASSED"), ("STATE_REGISTER", "WAITING")]
    details = application.checks.get(step="STATE_REGISTER").details
    assert details[0]["code"] == code
    assert len(details[0]["candidates"]) == registered
    assert created() == NOTHING
    assert "оператора" in outbox[-1].subject


def test_an_operator_approves_a_waiting_sole_proprietor(registration, pki, run_on_commit, outbox):
    application, _token = submit_fop(registration, pki, run_on_commit)
    operator = SuperuserFactory()
    run_on_commit(
        registration_application_decide, application=application, approve=True, actor=operator, comment=""
    )
    application.refresh_from_db()
    assert (application.status, application.decided_by) == ("APPROVED", operator)
    assert steps(application)[-1] == ("OPERATOR", "PASSED")
    assert application.checks.last().created_by == operator
    assert created() == {**NOTHING, "LegalEntity": 1, "Division": 1, "EmployeeRequest": 1}
    assert "/invite/" in outbox[-1].body


def test_an_operator_rejects_a_waiting_sole_proprietor_with_a_comment(
    registration, pki, run_on_commit, outbox
):
    application, _token = submit_fop(registration, pki, run_on_commit)
    operator = SuperuserFactory()
    with pytest.raises(ValidationError) as error:
        registration_application_decide(application=application, approve=False, actor=operator, comment=" ")
    assert error.value.error_dict["comment"][0].code == "required"

    run_on_commit(
        registration_application_decide,
        application=application,
        approve=False,
        actor=operator,
        comment="Витяг з реєстру не підтверджує особу",
    )
    application.refresh_from_db()
    assert application.status == "REJECTED"
    assert [(r["step"], r["code"]) for r in application.reasons] == [("OPERATOR", "operator_rejected")]
    assert "Витяг з реєстру не підтверджує особу" in application.reasons[0]["message"]
    assert "Витяг з реєстру не підтверджує особу" in outbox[-1].body
    assert created() == NOTHING

    with pytest.raises(ValidationError) as error:
        registration_application_decide(application=application, approve=True, actor=operator)
    assert error.value.code == "application_not_waiting"
    assert created() == NOTHING


def test_a_recheck_appends_new_checks_and_keeps_the_old_ones(registration, pki, run_on_commit):
    application, _token = submit(registration, pki, run_on_commit)
    assert application.reasons[0]["code"] == "edr_not_found"
    registration.register_clinic()  # the next register import brings the clinic
    operator = SuperuserFactory()
    application = run_on_commit(registration_application_recheck, application=application, actor=operator)
    assert application.status == "APPROVED"
    assert application.reasons == []
    assert steps(application) == [
        ("SIGNATURE", "PASSED"),
        ("KVEDS", "PASSED"),
        ("STATE_REGISTER", "FAILED"),
        ("SIGNATURE", "PASSED"),
        ("KVEDS", "PASSED"),
        ("STATE_REGISTER", "PASSED"),
    ]
    assert list(ApplicationCheck.objects.filter(created_by=operator).values_list("step", flat=True)) == [
        "SIGNATURE",
        "KVEDS",
        "STATE_REGISTER",
    ]
    with pytest.raises(ValidationError) as error:
        registration_application_recheck(application=application, actor=operator)
    assert error.value.code == "application_approved"
    assert created()["LegalEntity"] == 1


def test_a_facility_registered_meanwhile_rejects_instead_of_failing(registration, pki, run_on_commit, outbox):
    """The race the database settles: both applications passed the register step, one insert wins."""
    from registry.services.registration import _application_approve

    registration.register_clinic()
    data = registration.payload()
    application, _token = registration_application_submit(
        signed_envelope=pki.sign(pki.person(), registration.canonical(data)), data=data
    )
    winner = LegalEntity.objects.create(
        edrpou=CLINIC_EDRPOU,
        name="Інший запис",
        legal_form="240",
        owner_property_type="PRIVATE",
        email="x@y.z",
    )
    _application_approve(application)
    application.refresh_from_db()
    assert application.status == "REJECTED"
    assert [(r["step"], r["code"]) for r in application.reasons] == [
        ("STATE_REGISTER", "legal_entity_exists")
    ]
    assert list(LegalEntity.objects.all()) == [winner]
    assert created() == {**NOTHING, "LegalEntity": 1}


# --- Against the demo register, as imported by import_edr ---------------------------------------------


def test_the_demo_clinic_registers_against_the_demo_register(registration, pki, run_on_commit, demo_register):
    application, _token = submit(registration, pki, run_on_commit, data=registration.payload(**DEMO_CLINIC))
    assert application.status == "APPROVED", application.reasons
    assert application.checks.last().details[0]["subject"]["heads"] == ["КОВАЛЕНКО ОЛЕНА ПЕТРІВНА"]


def test_demo_sole_proprietors(registration, pki, run_on_commit, demo_register):
    shevchuk, _token = submit_fop(registration, pki, run_on_commit)
    assert shevchuk.status == "APPROVED", shevchuk.reasons

    rnokpp = "298765432" + rnokpp_check_digit("298765432")
    names = ("Бондаренко", "Марія", "Олександрівна")
    data = registration.fop_payload(names=names, rnokpp=rnokpp)
    signer = pki.person(surname=names[0], given_names=" ".join(names[1:]), drfo=rnokpp, edrpou=None)
    bondarenko, _token = submit(registration, pki, run_on_commit, data=data, signer=signer)
    assert bondarenko.status == "WAITING_OPERATOR"
    candidates = bondarenko.checks.last().details[0]["candidates"]
    assert len(candidates) == 2 and {c["address"][:5] for c in candidates} == {"21000", "49000"}
