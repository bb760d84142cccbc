import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from registry.models import Dictionary, DictionaryValue, GlobalParameter
from registry.services import kveds_load_classifier, reference_data_load

pytestmark = pytest.mark.django_db

SHIPPED = Path(__file__).resolve().parents[2] / "registry" / "data" / "dictionaries.json"
KVED_SAMPLE = Path(__file__).resolve().parent / "data" / "kved_sample.json"

REQUIRED_DICTIONARIES = {
    "KVEDS",
    "KVEDS_ALLOWED_MSP",
    "KVEDS_ALLOWED_PHARMACY",
    "LEGAL_FORM",
    "OWNER_PROPERTY_TYPE",
    "LEGAL_ENTITY_TYPE",
    "POSITION",
    "EMPLOYEE_TYPE",
    "EMPLOYEE_STATUS",
    "EMPLOYEE_REQUEST_STATUS",
    "SPECIALITY_TYPE",
    "SPECIALITY_LEVEL",
    "SPEC_QUALIFICATION_TYPE",
    "EDUCATION_DEGREE",
    "SCIENCE_DEGREE",
    "QUALIFICATION_TYPE",
    "DOCUMENT_TYPE",
    "DOCUMENT_RELATIONSHIP_TYPE",
    "PHONE_TYPE",
    "ADDRESS_TYPE",
    "SETTLEMENT_TYPE",
    "STREET_TYPE",
    "DIVISION_TYPE",
    "DIVISION_STATUS",
    "ACCREDITATION_CATEGORY",
    "GENDER",
    "TAX_ID",
    "LICENSE_TYPE",
    "AUTHENTICATION_METHOD",
    "CONFIDANT_PERSON_TYPE",
    "TERM_UNIT",
}


def run(*args) -> str:
    out = StringIO()
    call_command("load_dictionaries", *args, stdout=out)
    return out.getvalue()


def values_of(name: str) -> dict[str, str]:
    return dict(DictionaryValue.objects.filter(dictionary__name=name).values_list("key", "label"))


def test_first_run_creates_everything_from_the_shipped_file():
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
    value_count = sum(len(entry["values"]) for entry in shipped["dictionaries"])

    output = run()

    assert set(Dictionary.objects.values_list("name", flat=True)) == REQUIRED_DICTIONARIES
    assert DictionaryValue.objects.count() == value_count
    assert f"dictionaries: {len(REQUIRED_DICTIONARIES)} created, 0 updated, 0 unchanged" in output
    assert f"values: {value_count} created, 0 updated, 0 unchanged" in output
    assert "global parameters: 10 created, 0 updated, 0 unchanged" in output


def test_second_run_changes_nothing():
    run()
    snapshot = list(DictionaryValue.objects.order_by("pk").values())

    output = run()

    assert "dictionaries: 0 created, 0 updated, 31 unchanged" in output
    assert " 0 created, 0 updated" in output.split("values:")[1].splitlines()[0]
    assert "global parameters: 0 created, 0 updated, 10 unchanged" in output
    assert list(DictionaryValue.objects.order_by("pk").values()) == snapshot


def test_shipped_values():
    run()
    positions = values_of("POSITION")
    assert len(positions) == 26
    assert positions["P7"] == "Лікар загальної практики – сімейний лікар"
    assert positions["P26"] == "ФОП"
    assert values_of("KVEDS_ALLOWED_MSP") == {
        "86.10": "Діяльність лікарняних закладів",
        "86.21": "Загальна медична практика",
    }
    assert list(values_of("KVEDS_ALLOWED_PHARMACY")) == ["47.73"]
    assert {"86.10", "86.21", "86.22", "86.23", "86.90", "87.10", "88.99", "47.73", "21.20"} <= set(
        values_of("KVEDS")
    )
    assert values_of("OWNER_PROPERTY_TYPE") == {"STATE": "бюджетна", "PRIVATE": "приватна"}
    assert set(values_of("TERM_UNIT")) == {"SECONDS", "HOURS", "DAYS", "MONTHS", "YEARS"}
    assert Dictionary.objects.get(name="GENDER").labels == ["SYSTEM", "EXTERNAL"]
    assert dict(GlobalParameter.objects.values_list("name", "value")) == {
        "adult_age": "18",
        "declaration_term": "365",
        "declaration_term_unit": "DAYS",
        "declaration_request_expiration": "1",
        "declaration_request_term_unit": "DAYS",
        "employee_request_expiration": "30",
        "employee_request_term_unit": "DAYS",
        "declaration_limit_therapist": "2000",
        "declaration_limit_pediatrician": "900",
        "declaration_limit_family_doctor": "1800",
    }


def test_positions_follow_the_file_or_the_key():
    run()
    position_keys = list(
        DictionaryValue.objects.filter(dictionary__name="POSITION")
        .order_by("position", "key")
        .values_list("key", flat=True)
    )
    assert position_keys[:3] == ["P1", "P2", "P3"] and position_keys[-1] == "P26"
    assert set(
        DictionaryValue.objects.filter(dictionary__name="KVEDS").values_list("position", flat=True)
    ) == {0}


def test_a_deactivated_value_stays_deactivated_unless_reset():
    run()
    DictionaryValue.objects.filter(dictionary__name="GENDER", key="MALE").update(is_active=False)
    Dictionary.objects.filter(name="STREET_TYPE").update(is_active=False)

    run()
    assert not DictionaryValue.objects.get(dictionary__name="GENDER", key="MALE").is_active
    assert not Dictionary.objects.get(name="STREET_TYPE").is_active

    output = run("--reset-active")
    assert DictionaryValue.objects.get(dictionary__name="GENDER", key="MALE").is_active
    assert Dictionary.objects.get(name="STREET_TYPE").is_active
    assert "dictionaries: 0 created, 1 updated" in output


def test_label_changes_come_from_the_file_and_extra_values_are_kept():
    run()
    DictionaryValue.objects.filter(dictionary__name="GENDER", key="FEMALE").update(label="змінено")
    DictionaryValue.objects.create(
        dictionary=Dictionary.objects.get(name="GENDER"), key="OTHER", label="Інша"
    )

    output = run()

    assert values_of("GENDER")["FEMALE"] == "Жіноча"
    assert values_of("GENDER")["OTHER"] == "Інша"
    assert "values: 0 created, 1 updated" in output


def test_load_kved_classifier_file_into_kveds():
    run()
    DictionaryValue.objects.filter(dictionary__name="KVEDS", key="86.22").update(is_active=False)

    output = run("--kved-file", str(KVED_SAMPLE))

    kveds = values_of("KVEDS")
    assert kveds["01.11"].startswith("Вирощування зернових культур")  # new class from the classifier
    assert kveds["86.10"] == "Діяльність лікарняних закладів"  # stripped
    assert kveds["88.99"].endswith("н. в. і. у.")  # the classifier's label wins over the shipped one
    assert "87.10" in kveds  # codes missing from the file are kept
    assert not DictionaryValue.objects.get(dictionary__name="KVEDS", key="86.22").is_active
    assert "kved_sample.json:" in output
    assert "values: 1 created, 1 updated, 7 unchanged" in output


def test_kved_loading_is_idempotent_and_not_undone_by_the_shipped_file():
    run("--kved-file", str(KVED_SAMPLE))
    snapshot = values_of("KVEDS")

    output = run("--kved-file", str(KVED_SAMPLE))

    assert values_of("KVEDS") == snapshot
    assert output.count("0 created, 0 updated") == 6  # both files, all three counters


def test_kved_service_accepts_sections_without_the_extra_list():
    classifier = json.loads(KVED_SAMPLE.read_text(encoding="utf-8"))
    classifier["sections"] = classifier["sections"][0]

    report = kveds_load_classifier(classifier=classifier)

    assert report.dictionaries.created == 1
    assert report.values.created == 9
    assert Dictionary.objects.get(name="KVEDS").labels == ["SYSTEM", "EXTERNAL"]


@pytest.mark.parametrize(
    "classifier",
    [
        {},
        {
            "sections": [
                [{"divisions": [{"groups": [{"classes": [{"classCode": "8610", "className": "x"}]}]}]}]
            ]
        },
        {
            "sections": [
                [{"divisions": [{"groups": [{"classes": [{"classCode": "86.10", "className": ""}]}]}]}]
            ]
        },
        {"sections": [[]]},
    ],
)
def test_bad_kved_classifier_is_rejected(classifier):
    with pytest.raises(ValidationError):
        kveds_load_classifier(classifier=classifier)
    assert not Dictionary.objects.exists()


def test_bad_data_file_loads_nothing():
    data = {
        "dictionaries": [
            {"name": "GOOD", "labels": ["SYSTEM"], "is_active": True, "values": {"A": "а"}},
            {"name": "bad name", "labels": ["SYSTEM"], "is_active": True, "values": {"A": "а"}},
        ]
    }
    with pytest.raises(ValidationError):
        reference_data_load(data=data)
    assert not Dictionary.objects.exists()


def test_bad_parameter_value_is_rejected():
    with pytest.raises(ValidationError):
        reference_data_load(data={"global_parameters": [{"name": "adult_age", "value": "eighteen"}]})


def test_command_reports_unreadable_files(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(broken))
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "missing.json"))
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"dictionaries": {}}', encoding="utf-8")
    with pytest.raises(CommandError, match="must be a list"):
        run(str(wrong))


def test_reset_active_also_reactivates_seed_only_kveds():
    run()
    DictionaryValue.objects.filter(dictionary__name="KVEDS", key="86.21").update(
        is_active=False, label="змінено"
    )

    run("--reset-active")

    value = DictionaryValue.objects.get(dictionary__name="KVEDS", key="86.21")
    assert value.is_active
    assert value.label == "змінено"  # KVEDS labels are not the shipped file's to change
