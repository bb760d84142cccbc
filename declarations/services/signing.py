"""The doctor signs a declaration request (ehealth-api.md §4.6): the declaration comes into being.

The signature must cover exactly what the portal serves for the request (`declaration_request_signable_bytes`:
the data, the printed form, the server's nonce and number), attached (the same JSON in any formatting: a MIS
serializes its own) or detached (those bytes), by the request's own
doctor (the certificate's DRFO is their RNOKPP). Then, in one transaction under the request's lock: the
patient registered or updated, every other current declaration of theirs terminated (any doctor, any
facility), the declaration created (ACTIVE; PENDING_VERIFICATION when the patient confirmed with documents
or has no RNOKPP), the request SIGNED with the evidence. A second signing finds the request SIGNED (409);
a signature of another request does not match this one's content (its id, nonce and number differ).
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ehealth_portal.history import acting_as, update_recorded
from registry.models import Employee
from registry.services.signing import same_json, signed_document_verify, signer_is
from registry.services.staff import errors_under

from ..models import Declaration, DeclarationRequest, Person
from ..payloads import OFFLINE
from .limits import doctor_availability_refresh
from .requests import (
    DOCTOR,
    _error,
    _transition_error,
    declaration_request_signable_bytes,
    person_registered,
    request_still_valid,
)

SIGNED_FIELD = "signed_declaration_request"  # the API's field of the envelope: signature problems go there
AUTO_NEW_DECLARATION = Declaration.Reason.AUTO_NEW_DECLARATION  # why the patient's earlier declarations ended
SIGNED_CONTENT_DIFFERS = gettext_lazy(
    "The signed document is not this request as the portal shows it: open the request again and sign it."
)


def declaration_request_sign(
    *, declaration_request: DeclarationRequest, actor, signed_envelope: bytes
) -> Declaration:
    """Sign an APPROVED request as its doctor; return the new declaration. Refusals store nothing:
    "invalid_status" (409) unless APPROVED, "signer_not_doctor" (403) unless the actor is the request's
    doctor, signature problems at `signed_declaration_request`."""
    request = declaration_request
    if request.status != DeclarationRequest.Status.APPROVED:
        raise _transition_error(request, "invalid_status")
    employee = _signer_doctor(request, actor)
    # The signature is verified before any lock is taken (it is the slow part), and the content compared
    # again under the lock, against the row as it is then.
    document = signed_document_verify(
        envelope=signed_envelope,
        expected=declaration_request_signable_bytes(request),
        field=SIGNED_FIELD,
        differs_message=SIGNED_CONTENT_DIFFERS,
        same=same_json,  # a MIS signs the served JSON as it serializes it
    )
    signer_is(
        document=document,
        tax_id=employee.party.tax_id,
        field=SIGNED_FIELD,
        message=_(
            "The request must be signed with the doctor's own key: the signer's RNOKPP is not the doctor's."
        ),
    )
    with transaction.atomic(), acting_as(actor):
        locked = DeclarationRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != DeclarationRequest.Status.APPROVED:
            raise _transition_error(locked, "invalid_status")
        request_still_valid(locked)
        if not same_json(document.content, declaration_request_signable_bytes(locked)):
            raise _error(SIGNED_FIELD, SIGNED_CONTENT_DIFFERS, "signed_content_differs")
        person = _person_saved(locked, actor)
        ended_parties = _current_declarations_terminate(person, actor)
        declaration = Declaration.objects.create(
            id=locked.declaration_id,
            declaration_number=locked.declaration_number,
            declaration_request=locked,
            person=person,
            employee_id=locked.employee_id,
            division_id=locked.division_id,
            legal_entity_id=locked.legal_entity_id,
            scope=locked.data.get("scope", "family_doctor"),
            start_date=locked.start_date,
            end_date=locked.end_date,
            overlimit=locked.overlimit,
            signed_at=timezone.now(),
            created_by=actor,
            updated_by=actor,
            **_status_and_reason(locked, person),
        )
        locked.status = DeclarationRequest.Status.SIGNED
        locked.person = person
        locked.signed_envelope = signed_envelope
        locked.signed_content = document.content
        locked.signer = document.signer.as_dict()
        locked.updated_by = actor
        locked.save(
            update_fields=[
                "status",
                "person",
                "signed_envelope",
                "signed_content",
                "signer",
                "updated_by",
                "updated_at",
            ]
        )
        doctor_availability_refresh(party_ids=[employee.party_id, *ended_parties])
    return declaration


def _signer_doctor(request: DeclarationRequest, actor) -> Employee:
    """The request's doctor, if the actor is them and they still work there (§4.6 steps 5–6)."""
    employee = Employee.objects.select_related("party").get(pk=request.employee_id)
    if not (
        getattr(actor, "pk", None) is not None
        and employee.party.user_id == actor.pk
        and employee.legal_entity_id == request.legal_entity_id
        and employee.employee_type == DOCTOR
        and employee.status == Employee.Status.APPROVED
        and employee.is_active
    ):
        raise _error(NON_FIELD_ERRORS, _("Only the doctor of the request can sign it."), "signer_not_doctor")
    return employee


def _person_saved(request: DeclarationRequest, actor) -> Person:
    """§4.6 step 8: the patient registered from the request, or the registered one updated with it."""
    from .patients import person_create, person_update

    data = dict(request.data["person"])
    existing = request.person or person_registered(data)
    try:
        if existing is None:
            return person_create(actor=actor, data=data)
        return person_update(person=existing, actor=actor, data=data)
    except ValidationError as error:
        raise errors_under(error, "person") from None


def _current_declarations_terminate(person: Person, actor) -> list:
    """§4.6 step 9: the patient's active or pending declarations, with any doctor anywhere → terminated;
    the doctors' people whose count fell."""
    current = Declaration.objects.select_for_update(of=("self",)).filter(
        person=person, status__in=Declaration.CURRENT
    )
    rows = list(current.values_list("pk", "employee__party_id"))
    if not rows:
        return []
    ids = [pk for pk, _party in rows]
    # The reason column first (`update_recorded`'s own `reason` names the history's change reason).
    Declaration.objects.filter(pk__in=ids).update(
        reason=AUTO_NEW_DECLARATION, reason_description="", updated_at=timezone.now()
    )
    update_recorded(
        Declaration.objects.filter(pk__in=ids),
        reason="new declaration",
        status=Declaration.Status.TERMINATED,
        updated_by=actor,
    )
    return list({party for _pk, party in rows})


def _status_and_reason(request: DeclarationRequest, person: Person) -> dict:
    if request.authentication_method_current.get("type") == OFFLINE:
        return {"status": Declaration.Status.PENDING_VERIFICATION, "reason": Declaration.Reason.OFFLINE}
    if person.no_tax_id:
        return {"status": Declaration.Status.PENDING_VERIFICATION, "reason": Declaration.Reason.NO_TAX_ID}
    return {"status": Declaration.Status.ACTIVE, "reason": ""}
