"""The checks of a registration application, in their order: the signature (and its signer), the KVED
codes, the state register — each a `StepResult` with its reasons ({step, code, field, message})."""

from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from ..edr import name_key, person_names_match, state_register
from ..models import ApplicationCheck, LegalEntity, RegistrationApplication
from ..payloads import SOLE_PROPRIETOR_LEGAL_FORM, payload_full_name
from ..selectors import dictionary_choices, dictionary_has_key
from .reference_data import KVEDS, KVEDS_ALLOWED_MSP
from .registration_facility import FacilityChange, change_signatory, facility_change_reason
from .signing import signed_document_verify

ENVELOPE_FIELD = "signed_legal_entity_request"  # the JSON path of signature problems, as in eHealth

Step = ApplicationCheck.Step
Outcome = ApplicationCheck.Outcome

REASON_MESSAGES = {
    "signed_content_differs": _(
        "The signed document is not the submitted application: sign the document shown for review."
    ),
    "content_not_json": _("The signed document is not a JSON object."),
    "signer_drfo_missing": _("The signer's certificate has no RNOKPP."),
    "signer_not_head": _("The application is signed by someone else: the signer's RNOKPP is not the head's."),
    "signer_edrpou_mismatch": _(
        "The signer's certificate belongs to another organisation (EDRPOU %(signer)s, not %(edrpou)s)."
    ),
    "signer_surname_mismatch": _("The signer's surname “%(signer)s” differs from the head's “%(head)s”."),
    "signer_given_names_mismatch": _(
        "The signer's first name and patronymic “%(signer)s” differ from the head's “%(head)s”."
    ),
    "signer_name_mismatch": _("The signer “%(signer)s” is not the head “%(head)s”."),
    "kved_unknown": _("Unknown KVED codes: %(codes)s."),
    "kved_primary_care_missing": _("At least one KVED code must be a primary-care code: %(codes)s."),
    "legal_entity_exists": _(
        "A facility with this code is already registered; only its head can change its data."
    ),
    "legal_entity_closed": _("The facility with this code is closed: its data can't be updated."),
    "edr_not_found": _("The code %(edrpou)s is not in the state register."),
    "edr_not_registered": _("In the state register the entity is “%(state)s”, not registered."),
    "edr_ambiguous": _("The state register lists several registered entities with the code %(edrpou)s."),
    "edr_head_mismatch": _("%(head)s is not a head or signatory of this entity in the state register."),
    "edr_name_mismatch": _("The name differs from the state register: “%(register_name)s”."),
    "fop_not_found": _("No registered sole proprietor named %(head)s was found in the state register."),
    "fop_ambiguous": _("Several registered sole proprietors are named %(head)s in the state register."),
    "operator_rejected": _("Rejected by an operator: %(comment)s"),
}


@dataclass
class StepResult:
    outcome: str
    details: list[dict]


def check_reason(step: str, code: str, field: str, message=None, **params) -> dict:
    """One refusal reason as stored and shown: {step, code, field, message} (message rendered now)."""
    text = message if message is not None else REASON_MESSAGES[code]
    return {
        "step": step,
        "code": code,
        "field": field,
        "message": str(text) % params if params else str(text),
    }


def reason_error(field: str, code: str, message=None, **params) -> ValidationError:
    text = message if message is not None else REASON_MESSAGES[code]
    return ValidationError({field: [ValidationError(text, code=code, params=params or None)]})


def active_legal_entity_exists(*, edrpou: str, type: str) -> bool:  # noqa: A002
    return LegalEntity.objects.filter(edrpou=edrpou, type=type, status=LegalEntity.Status.ACTIVE).exists()


def signature_verify(envelope: bytes, expected: bytes | None):
    """The verified document of an envelope (signing.signed_document_verify at the envelope's path)."""
    return signed_document_verify(
        envelope=envelope,
        expected=expected,
        field=ENVELOPE_FIELD,
        differs_message=REASON_MESSAGES["signed_content_differs"],
    )


def reasons_validation_error(reasons: list[dict]) -> ValidationError:
    """Stored refusal reasons as a ValidationError keyed by their payload paths (API: `invalid[]`)."""
    errors: dict[str, list] = {}
    for reason in reasons:
        errors.setdefault(reason["field"] or NON_FIELD_ERRORS, []).append(
            ValidationError(reason["message"], code=reason["code"])
        )
    return ValidationError(errors)


def signature_check(
    application: RegistrationApplication, *, change: FacilityChange | None = None
) -> StepResult:
    """A re-check: valid signature over exactly the stored document, made by the head (ФОП: proprietor)
    — for a handover, by the facility's current head."""
    try:
        document = signature_verify(bytes(application.signed_envelope), bytes(application.signed_content))
    except ValidationError as error:
        item = error.error_dict[ENVELOPE_FIELD][0]
        return failed(check_reason(Step.SIGNATURE, item.code, ENVELOPE_FIELD, item.messages[0]))
    application.signer = document.signer.as_dict()
    application.save(update_fields=["signer"])
    if reasons := signer_reasons(
        document.signer, application.data, change_signatory(application.data, change)
    ):
        return failed(*reasons)
    return StepResult(Outcome.PASSED, [{"code": "signature_valid", "signer": application.signer}])


def signer_reasons(signer, data: dict, signatory: dict) -> list[dict]:
    """Why the signer is not `signatory` (`change_signatory`: RNOKPP, names) of the facility in `data`
    (organisation); empty if they are."""
    owner, edrpou = signatory, data["edrpou"]
    reasons = []
    drfo = (signer.drfo or "").strip().upper()
    if not drfo:
        reasons.append(check_reason(Step.SIGNATURE, "signer_drfo_missing", "owner.tax_id"))
    elif drfo != owner["tax_id"]:
        reasons.append(check_reason(Step.SIGNATURE, "signer_not_head", "owner.tax_id"))
    # A ФОП's code is the head's RNOKPP (the payload rules tie the two), so the DRFO check above covers
    # "signer DRFO = edrpou"; the certificate's EDRPOU is compared for legal entities only.
    if data["legal_form"] != SOLE_PROPRIETOR_LEGAL_FORM and signer.edrpou and signer.edrpou.strip() != edrpou:
        reasons.append(
            check_reason(
                Step.SIGNATURE, "signer_edrpou_mismatch", "edrpou", signer=signer.edrpou, edrpou=edrpou
            )
        )
    given_names = " ".join(filter(None, [owner["first_name"], owner.get("second_name")]))
    if signer.surname or signer.given_names:
        if not person_names_match(signer.surname or "", owner["last_name"]):
            reasons.append(
                check_reason(
                    Step.SIGNATURE,
                    "signer_surname_mismatch",
                    "owner.last_name",
                    signer=signer.surname or "",
                    head=owner["last_name"],
                )
            )
        if not person_names_match(signer.given_names or "", given_names):
            reasons.append(
                check_reason(
                    Step.SIGNATURE,
                    "signer_given_names_mismatch",
                    "owner.first_name",
                    signer=signer.given_names or "",
                    head=given_names,
                )
            )
    elif not person_names_match(signer.common_name or "", payload_full_name(owner)):
        reasons.append(
            check_reason(
                Step.SIGNATURE,
                "signer_name_mismatch",
                "owner.last_name",
                signer=signer.common_name or "",
                head=payload_full_name(owner),
            )
        )
    return reasons


def kveds_check(application: RegistrationApplication) -> StepResult:
    kveds = application.data["kveds"]
    reasons = []
    unknown = [code for code in kveds if not dictionary_has_key(name=KVEDS, key=code)]
    if unknown:
        reasons.append(check_reason(Step.KVEDS, "kved_unknown", "kveds", codes=", ".join(unknown)))
    if not any(dictionary_has_key(name=KVEDS_ALLOWED_MSP, key=code) for code in kveds):
        allowed = ", ".join(key for key, _label in dictionary_choices(name=KVEDS_ALLOWED_MSP))
        reasons.append(check_reason(Step.KVEDS, "kved_primary_care_missing", "kveds", codes=allowed))
    if reasons:
        return failed(*reasons)
    return StepResult(Outcome.PASSED, [{"code": "kveds_valid", "kveds": kveds}])


def _subject_dict(subject) -> dict:
    return {
        "kind": subject.kind,
        "code": subject.code,
        "name": subject.name,
        "short_name": subject.short_name,
        "address": subject.address,
        "state": subject.state,
        "is_registered": subject.is_registered,
        "heads": list(subject.heads),
    }


def state_register_check(
    application: RegistrationApplication, *, code_checked: bool = False, change: FacilityChange | None = None
) -> StepResult:
    data = application.data
    edrpou, head = data["edrpou"], payload_full_name(data["owner"])
    if not code_checked:  # what submission found may have changed meanwhile
        if change is not None:
            if code := facility_change_reason(change, application.signer.get("drfo")):
                return failed(check_reason(Step.STATE_REGISTER, code, "edrpou"))
        elif active_legal_entity_exists(edrpou=edrpou, type=data["type"]):
            return failed(check_reason(Step.STATE_REGISTER, "legal_entity_exists", "edrpou"))
    register = state_register()
    if data["legal_form"] == SOLE_PROPRIETOR_LEGAL_FORM:
        # The open data of sole proprietors has no RNOKPP: match the full name among registered ones.
        candidates = register.find_sole_proprietors(head)
        registered = [subject for subject in candidates if subject.is_registered]
        if len(registered) == 1:
            return StepResult(
                Outcome.PASSED, [{"code": "edr_found", "subject": _subject_dict(registered[0])}]
            )
        code = "fop_not_found" if not registered else "fop_ambiguous"
        detail = check_reason(Step.STATE_REGISTER, code, "owner", head=head)
        return StepResult(Outcome.WAITING, [{**detail, "candidates": [_subject_dict(s) for s in candidates]}])

    subjects = register.find_by_code(edrpou)
    if not subjects:
        return failed(check_reason(Step.STATE_REGISTER, "edr_not_found", "edrpou", edrpou=edrpou))
    registered = [subject for subject in subjects if subject.is_registered]
    if not registered:
        return failed(
            check_reason(Step.STATE_REGISTER, "edr_not_registered", "edrpou", state=subjects[0].state)
        )
    if len(registered) > 1:
        return failed(check_reason(Step.STATE_REGISTER, "edr_ambiguous", "edrpou", edrpou=edrpou))
    subject = registered[0]
    reasons = []
    if not any(person_names_match(head, name) for name in subject.heads):
        reasons.append(check_reason(Step.STATE_REGISTER, "edr_head_mismatch", "owner", head=head))
    register_names = {name_key(subject.name), name_key(subject.short_name)} - {""}
    if name_key(data["name"]) not in register_names:
        reasons.append(
            check_reason(Step.STATE_REGISTER, "edr_name_mismatch", "name", register_name=subject.name)
        )
    if reasons:
        return failed(*reasons)
    return StepResult(Outcome.PASSED, [{"code": "edr_found", "subject": _subject_dict(subject)}])


def failed(*reasons: dict) -> StepResult:
    return StepResult(Outcome.FAILED, list(reasons))
