"""The eHealth employee-request payload (ehealth-api.md §3.2–3.3): an invitation to work at a facility.

Shared by the cabinet's forms (HR access, the doctor wizard, other staff) and `POST /api/employee_requests`;
the facility-level checks (division, person, email) are `services.staff.employee_request_create`'s.

Differences from eHealth, on purpose:
* `legal_entity_id` may be left out: it is always the caller's facility (eHealth overwrites it too).
* Employee types: HR, DOCTOR, ADMIN (receptionist), ACCOUNTANT and ASSISTANT may be invited to a
  facility (the seeds name all five); OWNER comes only with the facility's registration.
* A person must be of working age (the `adult_age` global parameter), as the head must.
* Education and qualification countries are ISO codes such as UA (there is no COUNTRY dictionary here).
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .common import (
    DictionaryKeyField,
    PartySerializer,
    PastDateField,
    StrictSerializer,
    payload_validate,
)

OWNER = "OWNER"
DOCTOR = "DOCTOR"
STAFF_EMPLOYEE_TYPES = ("HR", DOCTOR, "ADMIN", "ACCOUNTANT", "ASSISTANT")
# API19 config :employee_speciality_types / _levels / _education_degrees / _qualification_types.
PRIMARY_CARE_SPECIALITIES = ("THERAPIST", "PEDIATRICIAN", "FAMILY_DOCTOR")
MAIN_SPECIALITY_LEVELS = ("FIRST", "SECOND", "HIGHEST", "NOT_APPLICABLE")
EDUCATION_DEGREES = ("EXPERT", "MASTER", "BACHELOR", "JUNIOR_EXPERT")


def _text(max_length: int = 255, **kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, **kwargs)


class EducationSerializer(StrictSerializer):
    country = _text(2, min_length=2)
    city = _text(100)
    institution_name = _text()
    issued_date = PastDateField(required=False)
    diploma_number = _text(50)
    degree = DictionaryKeyField("EDUCATION_DEGREE", allowed=EDUCATION_DEGREES)
    speciality = _text()

    def validate_country(self, value):
        return value.upper()


class QualificationSerializer(StrictSerializer):
    type = DictionaryKeyField("QUALIFICATION_TYPE")
    institution_name = _text()
    speciality = _text()
    issued_date = PastDateField(required=False)
    certificate_number = _text(50, required=False)
    valid_to = serializers.DateField(required=False)
    additional_info = _text(1000, required=False)

    def validate(self, attrs):
        if attrs.get("issued_date") and attrs.get("valid_to") and attrs["valid_to"] < attrs["issued_date"]:
            raise serializers.ValidationError(
                {"valid_to": _("The certificate cannot end before it is issued.")}, code="date_order"
            )
        return attrs


class SpecialitySerializer(StrictSerializer):
    speciality = DictionaryKeyField("SPECIALITY_TYPE")
    speciality_officio = serializers.BooleanField()
    level = DictionaryKeyField("SPECIALITY_LEVEL")
    qualification_type = DictionaryKeyField("SPEC_QUALIFICATION_TYPE")
    attestation_name = _text()
    attestation_date = PastDateField()
    valid_to_date = serializers.DateField(required=False)
    certificate_number = _text(50)

    def validate(self, attrs):
        if attrs.get("valid_to_date") and attrs["valid_to_date"] < attrs["attestation_date"]:
            raise serializers.ValidationError(
                {"valid_to_date": _("The certificate cannot end before the attestation.")},
                code="date_order",
            )
        return attrs


class ScienceDegreeSerializer(StrictSerializer):
    country = _text(2, min_length=2)
    city = _text(100)
    degree = DictionaryKeyField("SCIENCE_DEGREE")
    institution_name = _text()
    diploma_number = _text(50)
    speciality = _text()
    issued_date = PastDateField(required=False)

    def validate_country(self, value):
        return value.upper()


class DoctorSerializer(StrictSerializer):
    educations = EducationSerializer(many=True, min_length=1, max_length=20)
    qualifications = QualificationSerializer(many=True, min_length=1, max_length=50, required=False)
    specialities = SpecialitySerializer(many=True, min_length=1, max_length=20)
    science_degree = ScienceDegreeSerializer(required=False)

    def validate_specialities(self, value):
        main = [index for index, item in enumerate(value) if item["speciality_officio"]]
        if not main:
            raise serializers.ValidationError(
                _("Mark one speciality as the main one."), code="officio_missing"
            )
        if len(main) > 1:
            raise serializers.ValidationError(
                _("Only one speciality can be the main one."), code="officio_many"
            )
        item, errors = value[main[0]], {}
        if item["speciality"] not in PRIMARY_CARE_SPECIALITIES:
            errors["speciality"] = [
                serializers.ErrorDetail(
                    str(
                        _(
                            "A primary-care doctor's main speciality is therapist, paediatrician or family doctor."
                        )
                    ),
                    code="officio_not_primary_care",
                )
            ]
        if item["level"] not in MAIN_SPECIALITY_LEVELS:
            errors["level"] = [
                serializers.ErrorDetail(
                    str(_("The main speciality's level is first, second, highest or not applicable.")),
                    code="officio_level",
                )
            ]
        if errors:  # at the main speciality's own fields: specialities[i].speciality
            raise serializers.ValidationError(
                [{} if index != main[0] else errors for index in range(len(value))]
            )
        return value


class EmployeeRequestSerializer(StrictSerializer):
    legal_entity_id = serializers.UUIDField(required=False)
    division_id = serializers.UUIDField(required=False)
    employee_id = serializers.UUIDField(required=False)
    position = DictionaryKeyField("POSITION")
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False)
    status = serializers.ChoiceField(choices=["NEW"])
    employee_type = DictionaryKeyField("EMPLOYEE_TYPE")
    party = PartySerializer()
    doctor = DoctorSerializer(required=False)

    def validate_employee_type(self, value):
        if value == OWNER:
            raise serializers.ValidationError(
                _("A head is registered only together with the facility."), code="owner_forbidden"
            )
        if value not in STAFF_EMPLOYEE_TYPES:
            raise serializers.ValidationError(
                _("A medical facility cannot employ this role."), code="inclusion"
            )
        return value

    def validate(self, attrs):
        errors = {}
        is_doctor = attrs["employee_type"] == DOCTOR
        if is_doctor and "doctor" not in attrs:
            errors["doctor"] = _("A doctor's education and specialities are required.")
        if not is_doctor and "doctor" in attrs:
            errors["doctor"] = _("Only a doctor has this block.")
        if is_doctor and "division_id" not in attrs:
            errors["division_id"] = _("Choose the doctor's place of service.")
        if attrs.get("end_date") and attrs["end_date"] < attrs["start_date"]:
            errors["end_date"] = _("The job cannot end before it starts.")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def employee_request_payload_validate(data: Any) -> dict:
    """Validate the inside of eHealth's `{"employee_request": {...}}`; return it normalised."""
    return payload_validate(EmployeeRequestSerializer, data)
