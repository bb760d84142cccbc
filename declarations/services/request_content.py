"""What a declaration request holds besides the patient: snapshots of the doctor, the division and the
facility as they were when it was made (§4.3 effect 3), and the printed declaration form (§4.3 step 7).
"""

import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from registry.addresses import address_text
from registry.models import Division, Employee, LegalEntity
from registry.selectors import dictionary_value_label

from ..models import DeclarationRequest


def phone_masked(number: str) -> str:
    """+38093*****85: how eHealth shows a patient's phone in `urgent`."""
    return f"{number[:6]}{'*' * max(len(number) - 8, 0)}{number[-2:]}" if len(number) > 8 else number


# --- Snapshots ------------------------------------------------------------------------------------------


def employee_snapshot(employee: Employee) -> dict:
    party = employee.party
    return {
        "id": str(employee.pk),
        "position": employee.position,
        "employee_type": employee.employee_type,
        "speciality": employee.speciality,
        "party": {
            "id": str(party.pk),
            "first_name": party.first_name,
            "last_name": party.last_name,
            "second_name": party.second_name,
            "phones": party.phones,
            "tax_id": party.tax_id,
            "email": party.user.email if party.user_id else "",
        },
    }


def division_snapshot(division: Division) -> dict:
    return {
        "id": str(division.pk),
        "type": division.type,
        "name": division.name,
        "phones": division.phones,
        "email": division.email,
        "addresses": division.addresses,
        "external_id": division.external_id,
        "legal_entity_id": str(division.legal_entity_id),
    }


def legal_entity_snapshot(legal_entity: LegalEntity) -> dict:
    return {
        "id": str(legal_entity.pk),
        "name": legal_entity.name,
        "short_name": legal_entity.short_name,
        "public_name": legal_entity.public_name,
        "legal_form": legal_entity.legal_form,
        "edrpou": legal_entity.edrpou,
        "email": legal_entity.email,
        "phones": legal_entity.phones,
        "addresses": legal_entity.addresses,
        "accreditation": legal_entity.accreditation,
        "licenses": [legal_entity.license] if legal_entity.license else [],
    }


def _full_name(item: dict) -> str:
    return " ".join(filter(None, [item.get("last_name"), item.get("first_name"), item.get("second_name")]))


def _label(dictionary: str, key: str | None) -> str:
    return (dictionary_value_label(name=dictionary, key=key) or key or "") if key else ""


def _date(value: str) -> str:
    return datetime.date.fromisoformat(value).strftime("%d.%m.%Y") if value else ""


def printout_render(request: DeclarationRequest) -> str:
    """The declaration form the patient reads and signs on paper (§4.3 step 7), always in Ukrainian."""
    data = request.data
    patient, employee = data["person"], data["employee"]
    documents = [
        {
            **item,
            "type_label": _label("DOCUMENT_TYPE", item["type"]),
            "issued_at_text": _date(item.get("issued_at", "")),
        }
        for item in patient["documents"]
    ]
    confidants = [
        {
            "full_name": _full_name(item),
            "primary": item["relation_type"] == "PRIMARY",
            "birth_date": _date(item["birth_date"]),
            "tax_id": item.get("tax_id", ""),
            "document": item["documents_person"][0],
            "document_type": _label("DOCUMENT_TYPE", item["documents_person"][0]["type"]),
            "relationship": item["documents_relationship"][0],
            "relationship_type": _label(
                "DOCUMENT_RELATIONSHIP_TYPE", item["documents_relationship"][0]["type"]
            ),
            "phone": (item.get("phones") or [{}])[0].get("number", ""),
        }
        for item in patient.get("confidant_person", [])
    ]
    method = request.authentication_method_current
    context = {
        "number": request.declaration_number,
        "declaration_id": str(request.declaration_id),
        "start_date": _date(data["start_date"]),
        "end_date": _date(data["end_date"]),
        "person": patient,
        "person_name": _full_name(patient),
        "gender": _label("GENDER", patient["gender"]),
        "birth_date": _date(patient["birth_date"]),
        "documents": documents,
        "registration_address": address_text(patient["addresses"], address_type="REGISTRATION"),
        "residence_address": address_text(patient["addresses"], address_type="RESIDENCE"),
        "phone": (patient.get("phones") or [{}])[0].get("number", ""),
        "emergency_contact_name": _full_name(patient["emergency_contact"]),
        "emergency_contact_phone": patient["emergency_contact"]["phones"][0]["number"],
        "confidants": confidants,
        "doctor_name": _full_name(employee["party"]),
        "doctor_speciality": _label("SPECIALITY_TYPE", (employee.get("speciality") or {}).get("speciality")),
        "doctor_position": _label("POSITION", employee["position"]),
        "doctor_phone": (employee["party"].get("phones") or [{}])[0].get("number", ""),
        "division": data["division"],
        "division_address": address_text(data["division"]["addresses"]),
        "legal_entity": data["legal_entity"],
        "legal_entity_address": address_text(data["legal_entity"]["addresses"]),
        "method": method.get("type"),
        "method_phone": method.get("number", ""),
    }
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("declarations/printout_content.html", context).strip()
