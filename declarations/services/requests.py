"""Declaration requests (ehealth-api.md §4.3–4.5): create, the patient's confirmation (approve), reject,
send the code again, and expiry. Signing is `signing.declaration_request_sign`.

Refusals are ValidationErrors keyed by JSON paths ("person.birth_date", "employee_id"); a refusal stores
nothing. Conflicts of state carry codes in `CONFLICT_CODES` (the API answers 409) and the wrong signer
`FORBIDDEN_CODES` (403). Who may call these is the caller's question to `registry.permissions`.
"""

import datetime
import secrets

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ehealth_portal.history import acting_as, update_recorded
from registry.models import Division, Employee, LegalEntity, TermUnit
from registry.payloads import PRIMARY_CARE_SPECIALITIES, payload_canonical
from registry.selectors import (
    Term,
    global_parameter_int,
    global_parameter_term,
    global_parameters_as_dict,
)

from ..models import DeclarationRequest, Person
from ..payloads import FAMILY_DOCTOR_SCOPE, OFFLINE, OTP, declaration_request_payload_validate, person_age
from . import otp
from .limits import doctor_availability_refresh, doctor_count, doctor_jobs, doctor_limit, doctor_party_lock
from .numbers import declaration_number_new
from .request_content import (
    division_snapshot,
    employee_snapshot,
    legal_entity_snapshot,
    printout_render,
)

NA = "NA"
DOCTOR = "DOCTOR"
THERAPIST, PEDIATRICIAN, FAMILY_DOCTOR = "THERAPIST", "PEDIATRICIAN", "FAMILY_DOCTOR"
# Codes of refusals that are conflicts of state (409) and of the wrong signer (403) in the API.
CONFLICT_CODES = frozenset(
    {
        "invalid_transition",
        "invalid_status",
        "documents_not_uploaded",
        "not_otp",
        "request_expired",
        "request_doctor_inactive",
        "request_division_inactive",
    }
)
FORBIDDEN_CODES = frozenset({"signer_not_doctor"})


def _error(path: str, message, code: str, **params) -> ValidationError:
    return ValidationError({path: [ValidationError(message, code=code, params=params or None)]})


def _rekeyed(error: ValidationError, path: str) -> ValidationError:
    """The messages of `error`, whatever their keys, at `path` (codes kept)."""
    items = (
        [item for items in error.error_dict.values() for item in items]
        if hasattr(error, "error_dict")
        else error.error_list
    )
    return ValidationError({path: items})


def _transition_error(declaration_request: DeclarationRequest, code: str = "invalid_transition"):
    return _error(
        "status",
        _("The request is %(status)s: this cannot be done with it now.")
        % {"status": declaration_request.get_status_display()},
        code,
    )


def request_still_valid(request: DeclarationRequest) -> None:
    """What creation checked, again before the request is completed (approve, scans, a new code, sign):
    its term has not passed (the hourly job may not have marked it EXPIRED yet), the doctor still works
    at the facility, the place of service is still active. Rejecting needs none of it."""
    if request.expires_at <= timezone.now():
        raise _error(
            "expires_at",
            _("The request's term has passed: make a new request for the patient."),
            "request_expired",
        )
    working = Employee.objects.filter(
        pk=request.employee_id,
        legal_entity_id=request.legal_entity_id,
        status=Employee.Status.APPROVED,
        is_active=True,
    )
    if not working.exists():
        raise _error(
            "employee_id",
            _("The doctor of the request no longer works at the facility: reject the request."),
            "request_doctor_inactive",
        )
    if not Division.objects.filter(pk=request.division_id, status=Division.Status.ACTIVE).exists():
        raise _error(
            "division_id",
            _("The place of service of the request no longer works: reject the request."),
            "request_division_inactive",
        )


def person_key(person: dict) -> str:
    """Who a request is for, before the patient is registered (eHealth's rule: RNOKPP, else names and
    birth date)."""
    if person.get("tax_id"):
        return f"tax_id:{person['tax_id']}"
    return f"name:{person['last_name'].upper()}|{person['first_name'].upper()}|{person['birth_date']}"


def _document_key(number: str) -> str:
    return "".join(number.split()).upper()


def person_registered(person: dict) -> Person | None:
    """The registered patient the data describes: the same RNOKPP, or (without one) the same names,
    birth date and a document number — the patient register's own rule of one person once."""
    people = Person.objects.filter(is_active=True)
    if person.get("tax_id"):
        return people.filter(tax_id=person["tax_id"]).order_by("created_at").first()
    numbers = {_document_key(document["number"]) for document in person["documents"]}
    namesakes = people.filter(
        last_name__iexact=person["last_name"],
        first_name__iexact=person["first_name"],
        birth_date=person["birth_date"],
    ).order_by("created_at")
    return next(
        (
            namesake
            for namesake in namesakes
            if numbers & {_document_key(document.get("number", "")) for document in namesake.documents}
        ),
        None,
    )


# --- Create ------------------------------------------------------------------------------------------


def declaration_request_create(
    *, legal_entity: LegalEntity, actor, data: dict, channel=DeclarationRequest.Channel.CABINET
) -> DeclarationRequest:
    """A new request (§4.3) from the inside of `{"declaration_request": {...}}`: checked in eHealth's order,
    the patient's other pending requests with the doctor superseded, the code sent for an OTP patient."""
    return _create(legal_entity=legal_entity, actor=actor, data=data, channel=channel, person=None)


def declaration_request_create_for_person(
    *, legal_entity: LegalEntity, actor, person: Person, employee: Employee, division: Division
) -> DeclarationRequest:
    """A request for a registered patient (the cabinet): their data as the request's person."""
    from .patients import person_payload

    data = {
        "person": person_payload(person),
        "employee_id": str(employee.pk),
        "division_id": str(division.pk),
        "scope": FAMILY_DOCTOR_SCOPE,
    }
    return _create(
        legal_entity=legal_entity,
        actor=actor,
        data=data,
        channel=DeclarationRequest.Channel.CABINET,
        person=person,
    )


def _create(*, legal_entity, actor, data, channel, person) -> DeclarationRequest:
    data = declaration_request_payload_validate(data)
    patient = data["person"]
    employee, division = _doctor_and_division(legal_entity, data)
    speciality = employee.speciality["speciality"]
    start_date = timezone.localdate()
    birth_date = datetime.date.fromisoformat(patient["birth_date"])
    adult_age = global_parameter_int(name="adult_age", default=18)
    _age_checked(speciality, person_age(birth_date, start_date), adult_age)
    _phones_checked(patient)
    registered = person or person_registered(patient)
    _phone_auth_limit_checked(patient, registered)

    method = _authentication_method_current(patient, registered)
    request = DeclarationRequest(
        legal_entity=legal_entity,
        employee=employee,
        division=division,
        person=registered,
        person_key=person_key(patient),
        status=DeclarationRequest.Status.NEW,
        channel=channel,
        authentication_method_current=method,
        documents=_documents_required(patient, method),
        seed=secrets.token_hex(32),
        overlimit=data["overlimit"],
        start_date=start_date,
        end_date=_end_date(start_date, birth_date, speciality, adult_age),
        expires_at=global_parameter_term(
            name="declaration_request_expiration", unit_name="declaration_request_term_unit"
        ).after(timezone.now()),
        created_by=actor,
        updated_by=actor,
    )
    request.data = {
        "person": patient,
        "employee": employee_snapshot(employee),
        "division": division_snapshot(division),
        "legal_entity": legal_entity_snapshot(legal_entity),
        "scope": data["scope"],
        "start_date": request.start_date.isoformat(),
        "end_date": request.end_date.isoformat(),
        "declaration_id": str(request.declaration_id),
        "overlimit": request.overlimit,
    }
    with transaction.atomic(), acting_as(actor):
        freed = _supersede(request, actor)
        _store_numbered(request)
        if method["type"] == OTP:
            # In the same transaction: a refused code (too many sent) stores no request; the SMS itself
            # is queued after commit by the OTP service.
            try:
                otp.verification_start(phone_number=method["number"], declaration_request=request)
            except ValidationError as error:
                raise _rekeyed(error, "person.authentication_methods[0].phone_number") from None
        if freed:
            doctor_availability_refresh(party_ids=freed)
    return request


def _doctor_and_division(legal_entity, data) -> tuple[Employee, Division]:
    """§4.3 steps 2–7: the doctor (APPROVED, working here, a primary-care doctor), the division (here, active)."""
    employee = Employee.objects.select_related("party__user").filter(pk=data["employee_id"]).first()
    if employee is None:
        raise _error("employee_id", _("The doctor was not found."), "not_found")
    if employee.status != Employee.Status.APPROVED or not employee.is_active:
        raise _error("employee_id", _("The doctor does not work any more."), "invalid_employee_status")
    division = Division.objects.filter(pk=data["division_id"]).first()
    if division is None:
        raise _error("division_id", _("The division was not found."), "not_found")
    if employee.legal_entity_id != legal_entity.pk:
        raise _error("employee_id", _("The doctor does not work at this facility."), "employee_legal_entity")
    if division.legal_entity_id != legal_entity.pk:
        raise _error(
            "division_id", _("The division does not belong to this facility."), "division_legal_entity"
        )
    if division.status != Division.Status.ACTIVE:
        raise _error("division_id", _("The division does not work now."), "division_inactive")
    if employee.employee_type != DOCTOR:
        raise _error("employee_id", _("Choose a doctor."), "not_doctor")
    if (employee.speciality or {}).get("speciality") not in PRIMARY_CARE_SPECIALITIES:
        raise _error(
            "employee_id",
            _("The doctor's main speciality is not therapist, paediatrician or family doctor."),
            "speciality",
        )
    return employee, division


def _age_checked(speciality: str, age: int, adult_age: int) -> None:
    """§4.3 step 8 on the start date: a therapist takes adults, a paediatrician children, a family doctor anyone."""
    if speciality == THERAPIST and age < adult_age:
        message = _("A therapist takes patients from %(age)s years old.") % {"age": adult_age}
    elif speciality == PEDIATRICIAN and age >= adult_age:
        message = _("A paediatrician takes patients under %(age)s years old.") % {"age": adult_age}
    else:
        return
    raise _error("person.birth_date", message, "invalid_age")


def _phones_checked(patient: dict) -> None:
    """§4.3 step 9: every phone for SMS codes was confirmed with a code first."""
    for index, method in enumerate(patient["authentication_methods"]):
        if method["type"] == OTP and not otp.phone_is_verified(method["phone_number"]):
            raise _error(
                f"person.authentication_methods[{index}].phone_number",
                _("The phone number is not verified: confirm it with an SMS code first."),
                "phone_not_verified",
            )


def _phone_auth_limit_checked(patient: dict, registered: Person | None) -> None:
    """§4.3 step 13 (when the `phone_number_auth_limit` parameter is set): one phone confirms for at most
    N patients."""
    if "phone_number_auth_limit" not in global_parameters_as_dict():
        return
    limit = global_parameter_int(name="phone_number_auth_limit")
    for index, method in enumerate(patient["authentication_methods"]):
        if method["type"] != OTP:
            continue
        others = Person.objects.filter(is_active=True, authentication_phone=method["phone_number"])
        if registered is not None:
            others = others.exclude(pk=registered.pk)
        if others.count() >= limit:
            raise _error(
                f"person.authentication_methods[{index}].phone_number",
                _("This phone confirms for %(count)s patients already.") % {"count": limit},
                "phone_auth_limit",
            )


def _authentication_method_current(patient: dict, registered: Person | None) -> dict:
    """§4.3 step 6: how the patient confirms, from the registered patient when there is one."""
    first = patient["authentication_methods"][0]
    if registered is None:
        return {"type": OFFLINE} if first["type"] == OFFLINE else {"type": NA}
    if registered.authentication_method == Person.AuthenticationMethod.OTP:
        return {"type": OTP, "number": registered.authentication_phone}
    if registered.authentication_method == Person.AuthenticationMethod.NA:
        return {
            "type": first["type"],
            **({"number": first["phone_number"]} if first.get("phone_number") else {}),
        }
    return {"type": registered.authentication_method}


def _documents_required(patient: dict, method: dict) -> list[str]:
    """§4.3 step 8: the scans an OFFLINE patient (or one without an RNOKPP) brings."""
    if method["type"] != OFFLINE and not patient.get("no_tax_id"):
        return []
    types = ["person.DECLARATION_FORM"]
    if patient.get("tax_id"):
        types.append("person.SSN")
    types += [f"person.{document['type']}" for document in patient["documents"]]
    for index, confidant in enumerate(patient.get("confidant_person", [])):
        for document in confidant["documents_relationship"]:
            if document["type"] == "BIRTH_CERTIFICATE" and "person.BIRTH_CERTIFICATE" in types:
                continue  # the child's birth certificate is listed once
            types.append(
                f"confidant_person.{index}.{confidant['relation_type']}.RELATIONSHIP.{document['type']}"
            )
    return list(dict.fromkeys(types))


def _end_date(start_date, birth_date, speciality: str, adult_age: int) -> datetime.date:
    """The declaration term from the start; with a paediatrician, the day before the adult birthday."""
    end_date = global_parameter_term(name="declaration_term", unit_name="declaration_term_unit").after(
        start_date
    )
    if speciality == PEDIATRICIAN:
        adult_birthday = Term(amount=adult_age, unit=TermUnit.YEARS).after(birth_date)
        end_date = min(end_date, adult_birthday - datetime.timedelta(days=1))
    return end_date


def _supersede(request: DeclarationRequest, actor) -> list:
    """§4.3 effect 1: the patient's pending requests with the same doctor and facility → CANCELLED; the
    parties whose approved requests no longer count."""
    pending = DeclarationRequest.objects.select_for_update().filter(
        person_key=request.person_key,
        employee=request.employee,
        legal_entity=request.legal_entity,
        status__in=DeclarationRequest.PENDING,
    )
    rows = list(pending.values_list("pk", "status"))
    if not rows:
        return []
    update_recorded(
        DeclarationRequest.objects.filter(pk__in=[pk for pk, _status in rows]).defer(
            "data", "printout_content", "signed_envelope", "signed_content"
        ),
        reason="superseded",
        status=DeclarationRequest.Status.CANCELLED,
        updated_by=actor,
    )
    freed = any(status == DeclarationRequest.Status.APPROVED for _pk, status in rows)
    return [request.employee.party_id] if freed else []


def _store_numbered(request: DeclarationRequest, *, attempts: int = 5) -> None:
    """Save with a new number and its printed form; draw again if a parallel request took the number."""
    for attempt in range(attempts):
        request.declaration_number = declaration_number_new()
        request.data["declaration_number"] = request.declaration_number
        request.printout_content = printout_render(request)
        try:
            with transaction.atomic():
                request.save(force_insert=True)
            return
        except IntegrityError:
            taken = DeclarationRequest.objects.filter(declaration_number=request.declaration_number).exists()
            if attempt == attempts - 1 or not taken:
                raise


# --- The patient's confirmation ---------------------------------------------------------------------------


def declaration_request_approve(
    *, declaration_request: DeclarationRequest, actor, verification_code: str | None = None
) -> DeclarationRequest:
    """§4.5: NEW → APPROVED once the patient confirmed (the SMS code; or the scans uploaded) and the
    doctor has a place under the limit. The count and the approval run under a lock of the doctor's
    person, so parallel approvals never take more places than there are."""
    request = declaration_request
    if request.status != DeclarationRequest.Status.NEW:
        raise _transition_error(request)
    method = request.authentication_method_current.get("type")
    if method == OTP:
        if not verification_code:
            raise _error("verification_code", _("Enter the code from the SMS."), "required")
        # Everything checked before the code is spent on an approval that would be refused anyway.
        request_still_valid(request)
        _documents_checked(request)
        _limit_checked(request)
        # Outside a transaction of ours: a wrong try must stay counted when the refusal is raised.
        try:
            otp.verification_complete(
                phone_number=request.authentication_method_current["number"], code=verification_code
            )
        except ValidationError as error:
            raise _rekeyed(error, "verification_code") from None
    with transaction.atomic(), acting_as(actor):
        locked = (
            DeclarationRequest.objects.select_related("employee")
            .select_for_update(of=("self",))
            .get(pk=request.pk)
        )
        if locked.status != DeclarationRequest.Status.NEW:
            raise _transition_error(locked)
        request_still_valid(locked)
        _documents_checked(locked)
        doctor_party_lock(locked.employee.party_id)
        _limit_checked(locked)
        locked.status = DeclarationRequest.Status.APPROVED
        locked.updated_by = actor
        locked.save(update_fields=["status", "updated_by", "updated_at"])
        doctor_availability_refresh(party_ids=[locked.employee.party_id])
    return locked


def _documents_checked(request: DeclarationRequest) -> None:
    missing = sorted(set(request.documents) - set(request.uploads.values_list("type", flat=True)))
    if missing:
        raise _error(
            "documents",
            _("Upload the scans of these documents first: %(types)s.") % {"types": ", ".join(missing)},
            "documents_not_uploaded",
            types=missing,
        )


def _limit_checked(request: DeclarationRequest) -> None:
    """§4.5 step 4, unless the request is over the limit on purpose: fewer than the limit counted."""
    if request.overlimit:
        return
    jobs = doctor_jobs(request.employee.party_id)
    limit = doctor_limit(jobs)
    if limit is None:
        return
    exclude = request.person_id or getattr(person_registered(request.data["person"]), "pk", None)
    count = doctor_count(jobs, exclude_person_id=exclude)
    if count >= limit:
        raise _error(
            NON_FIELD_ERRORS,
            _("This doctor has %(count)s declarations and cannot take more (the limit is %(limit)s).")
            % {"count": count, "limit": limit},
            "declaration_limit",
            count=count,
            limit=limit,
        )


def declaration_request_reject(*, declaration_request: DeclarationRequest, actor) -> DeclarationRequest:
    """§4.4: NEW or APPROVED → REJECTED (an approved one frees the doctor's place)."""
    with transaction.atomic(), acting_as(actor):
        locked = (
            DeclarationRequest.objects.select_related("employee")
            .select_for_update(of=("self",))
            .get(pk=declaration_request.pk)
        )
        if locked.status not in DeclarationRequest.PENDING:
            raise _transition_error(locked)
        was_approved = locked.status == DeclarationRequest.Status.APPROVED
        locked.status = DeclarationRequest.Status.REJECTED
        locked.updated_by = actor
        locked.save(update_fields=["status", "updated_by", "updated_at"])
        if was_approved:
            doctor_availability_refresh(party_ids=[locked.employee.party_id])
    return locked


def declaration_request_resend_otp(*, declaration_request: DeclarationRequest, actor):
    """A new SMS code for a NEW request of a patient who confirms by SMS (the previous code is cancelled),
    under the request's lock: a request rejected meanwhile gets no code."""
    with transaction.atomic(), acting_as(actor):
        request = DeclarationRequest.objects.select_for_update().get(pk=declaration_request.pk)
        if request.status != DeclarationRequest.Status.NEW:
            raise _transition_error(request)
        if request.authentication_method_current.get("type") != OTP:
            raise _error(
                "authentication_method_current", _("This patient does not confirm by SMS."), "not_otp"
            )
        request_still_valid(request)
        return otp.verification_start(
            phone_number=request.authentication_method_current["number"], declaration_request=request
        )


# --- What the doctor signs, and expiry ------------------------------------------------------------------


def declaration_request_signable(declaration_request: DeclarationRequest) -> dict:
    """What the doctor signs (§4.6 step 4): the request's data with `person.patient_signed` true, its id,
    status, printed form (`content`), the server's nonce (`seed`) and number — $.data of GET by id."""
    request = declaration_request
    return {
        **request.data,
        "person": {**request.data["person"], "patient_signed": True},
        "id": str(request.pk),
        "status": request.status,
        "channel": request.channel,
        "content": request.printout_content,
        "seed": request.seed,
        "declaration_number": request.declaration_number,
    }


def declaration_request_signable_bytes(declaration_request: DeclarationRequest) -> bytes:
    """The signable document as canonical JSON: the exact bytes the signature covers."""
    return payload_canonical(declaration_request_signable(declaration_request))


def declaration_requests_expire() -> int:
    """NEW and APPROVED requests past `expires_at` → EXPIRED, their patient data and form wiped (§4.4),
    their scans deleted; each with a version. Returns how many (the hourly beat job)."""
    with transaction.atomic():
        # The requests' rows only (not the doctors' they are read with): a dismissal locks the doctor's row
        # and then the doctor's requests, so holding both here in another order could deadlock with it.
        due = DeclarationRequest.objects.select_for_update(of=("self",)).filter(
            status__in=DeclarationRequest.PENDING, expires_at__lte=timezone.now()
        )
        rows = list(due.values_list("pk", "status", "employee__party_id"))
        if not rows:
            return 0
        ids = [pk for pk, _status, _party in rows]
        expired = update_recorded(
            DeclarationRequest.objects.filter(pk__in=ids).defer("signed_envelope", "signed_content"),
            reason="expired",
            status=DeclarationRequest.Status.EXPIRED,
            data={},
            printout_content="",
            authentication_method_current={},
        )
        from .documents import declaration_request_documents_delete

        declaration_request_documents_delete(declaration_request_ids=ids)
        doctor_availability_refresh(
            party_ids=[party for _pk, status, party in rows if status == DeclarationRequest.Status.APPROVED]
        )
    return expired
