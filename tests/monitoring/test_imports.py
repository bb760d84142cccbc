from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from monitoring.models import AdministrativeService, Cnap, ServiceVariation
from monitoring.services import cnaps_import, services_import

from .conftest import DEMO, cnap_entry, service_entry

pytestmark = pytest.mark.django_db


def run(command, path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(command, str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def snapshot() -> list:
    return [
        list(AdministrativeService.objects.values()),
        list(ServiceVariation.objects.values()),
        list(Cnap.objects.values()),
    ]


# --- Demo files ---------------------------------------------------------------------------------------


def test_demo_services_import_then_reimport_changes_nothing():
    out, err = run("import_services", DEMO / "services.json")
    assert "10 created, 0 updated, 0 unchanged, 0 skipped" in out
    assert err == ""
    assert ServiceVariation.objects.count() == 15
    before = snapshot()

    out, _ = run("import_services", DEMO / "services.json")
    assert "0 created, 0 updated, 10 unchanged, 0 skipped" in out
    assert snapshot() == before


def test_demo_cnaps_import_then_reimport_changes_nothing():
    out, err = run("import_cnaps", DEMO / "cnaps.json")
    assert "8 created, 0 updated, 0 unchanged, 0 skipped" in out
    assert err == ""
    assert Cnap.objects.values("region").distinct().count() >= 5
    before = snapshot()

    out, _ = run("import_cnaps", DEMO / "cnaps.json")
    assert "0 created, 0 updated, 8 unchanged, 0 skipped" in out
    assert snapshot() == before


# --- Services -----------------------------------------------------------------------------------------


def test_service_fields_and_legal_terms_are_mapped():
    services_import(
        entries=[
            service_entry(
                variations=[
                    {
                        "identifier": "1",
                        "duration": {"verbose": "20 робочих днів", "type": "working_days", "value": 20},
                    },
                    {
                        "identifier": "2",
                        "duration": {"verbose": "10 днів", "type": "calendar_days", "value": "10"},
                    },
                    {"identifier": "3", "duration": {"verbose": "24 години", "type": "hours", "value": 24}},
                ]
            )
        ]
    )
    service = AdministrativeService.objects.get()
    assert service.identifier == "00056"  # leading zeros kept
    assert service.name == "Оформлення паспорта для виїзду за кордон"
    assert service.owner_name == "Державна міграційна служба України"
    assert service.provider_names == "Територіальний орган ДМС\nЦНАП"
    assert service.raw["id"] == "0b6c7c3e-1f1e-4c1a-9d2e-000000000056"
    terms = {
        v.identifier: (v.legal_term_days, v.legal_term_working_days, v.legal_term_text)
        for v in service.variations.all()
    }
    assert terms == {
        "1": (20, True, "20 робочих днів"),
        "2": (10, False, "10 днів"),
        "3": (None, False, "24 години"),  # hours are not converted into days
    }


def test_changed_service_entry_updates_it_and_its_variations(dump):
    run("import_services", dump([service_entry(), service_entry("00057")]))
    changed = service_entry(
        translations=[{"name": "Нова назва"}],
        variations=[
            {
                "identifier": "1",
                "duration": {"verbose": "15 робочих днів", "type": "working_days", "value": 15},
            }
        ],
    )

    out, _ = run("import_services", dump([changed, service_entry("00057")]))

    assert "0 created, 1 updated, 1 unchanged, 0 skipped" in out
    service = AdministrativeService.objects.get(identifier="00056")
    assert service.name == "Нова назва"
    variations = {v.identifier: (v.legal_term_days, v.is_active) for v in service.variations.all()}
    assert variations == {
        "1": (15, True),
        "2": (7, False),
    }  # a dropped variation is switched off, not deleted


def test_operator_deactivation_of_a_service_survives_reimport(dump):
    path = dump([service_entry()])
    run("import_services", path)
    AdministrativeService.objects.update(is_active=False)

    out, _ = run("import_services", path)

    assert "1 unchanged" in out
    assert not AdministrativeService.objects.get().is_active


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("not an object", "entry 1: the entry must be an object, not str"),
        (service_entry(identifier=None), "entry 1: identifier is missing"),
        (service_entry(identifier="  "), "identifier is missing"),
        (service_entry(identifier=True), "identifier must be a string or a whole number, not True"),
        (service_entry(identifier="1" * 51), "identifier is longer than 50 characters"),
        (service_entry(translations=[{"name": ""}]), 'entry 1 (identifier "00056"): name is missing'),
        (service_entry(owner="ДМС"), "owner must be an object, not str"),
        (service_entry(service_provider={"name": "x"}), "service_provider must be a list of objects"),
        (service_entry(variations={"identifier": "1"}), "variations must be a list"),
        (service_entry(variations=[{"duration": {}}]), "variation 1: identifier is missing"),
        (
            service_entry(variations=[{"identifier": "1", "duration": {"type": "days", "value": -3}}]),
            "variation 1: duration value must be a whole number, not -3",
        ),
        (
            service_entry(variations=[{"identifier": "1", "duration": {"type": "days", "value": "десять"}}]),
            "variation 1: duration value must be a whole number, not 'десять'",
        ),
        (
            service_entry(variations=[{"identifier": "1"}, {"identifier": 1}]),
            "two variations have the same identifier",
        ),
    ],
)
def test_malformed_service_entry_is_skipped_with_its_reason(dump, entry, reason):
    out, err = run("import_services", dump([entry, service_entry("00057")]))

    assert "1 created, 0 updated, 0 unchanged, 1 skipped" in out
    assert reason in err
    assert "Traceback" not in err
    assert list(AdministrativeService.objects.values_list("identifier", flat=True)) == ["00057"]
    assert set(ServiceVariation.objects.values_list("service__identifier", flat=True)) == {"00057"}


def test_malformed_entry_leaves_the_stored_service_as_it_was(dump):
    run("import_services", dump([service_entry()]))
    before = snapshot()
    broken = service_entry(
        translations=[{"name": "Нова назва"}],
        variations=[{"identifier": "1", "duration": {"value": "x"}}],
    )

    out, err = run("import_services", dump([broken]))

    assert "0 created, 0 updated, 0 unchanged, 1 skipped" in out
    assert 'entry 1 (identifier "00056"): variation 1: duration value must be a whole number' in err
    assert snapshot() == before


def test_repeated_identifier_in_a_file_is_skipped(dump):
    out, err = run("import_services", dump([service_entry(), service_entry(translations=[{"name": "Інша"}])]))

    assert "1 created, 0 updated, 0 unchanged, 1 skipped" in out
    assert 'entry 2 (identifier "00056"): identifier "00056" appears earlier in the file' in err
    assert AdministrativeService.objects.get().name == "Оформлення паспорта для виїзду за кордон"


# --- CNAPs --------------------------------------------------------------------------------------------


def test_cnap_fields_are_mapped():
    cnaps_import(
        entries=[
            cnap_entry(),
            cnap_entry(1002, state="Тимчасово закритий", address="м. Київ, вул. Хрещатик, 36"),
        ]
    )

    first, second = Cnap.objects.order_by("code")
    assert (first.code, first.name, first.region, first.is_active) == (
        "1001",
        "ЦНАП м. Києва",
        "м. Київ",
        True,
    )
    assert (first.address, first.latitude, first.longitude) == (
        "м. Київ, вул. Кошиця, 9-Б",
        Decimal("50.418300"),
        Decimal("30.651200"),
    )
    assert (second.address, second.latitude, second.is_active) == ("м. Київ, вул. Хрещатик, 36", None, False)


def test_changed_cnap_entry_updates_it(dump):
    run("import_cnaps", dump([cnap_entry(), cnap_entry(1002)]))

    out, _ = run(
        "import_cnaps", dump([cnap_entry(state="Закритий назавжди", name="ЦНАП (закрито)"), cnap_entry(1002)])
    )

    assert "0 created, 1 updated, 1 unchanged, 0 skipped" in out
    cnap = Cnap.objects.get(code="1001")
    assert (cnap.name, cnap.state, cnap.is_active) == ("ЦНАП (закрито)", "Закритий назавжди", False)


def test_cnap_without_state_keeps_the_operators_flag(dump):
    path = dump([cnap_entry(state=None)])
    run("import_cnaps", path)
    Cnap.objects.update(is_active=False)

    out, _ = run("import_cnaps", path)

    assert "1 unchanged" in out
    assert not Cnap.objects.get().is_active


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (cnap_entry(code=None), "entry 1: code is missing"),
        (cnap_entry(code=-5), "code must be a string or a whole number, not -5"),
        (cnap_entry(code=12.5), "code must be a string or a whole number, not 12.5"),
        (cnap_entry(name=None), 'entry 1 (code "1001"): name is missing'),
        (cnap_entry(name=["ЦНАП"]), "name must be text, not list"),
        (cnap_entry(address=5), "address must be an object, not int"),
        (cnap_entry(address={"lat": "north", "lon": 30.5}), "latitude must be a number, not 'north'"),
        (cnap_entry(address={"lat": 95, "lon": 30.5}), "latitude 95 is outside -90…90"),
        (cnap_entry(address={"lat": 50.4, "lon": 181}), "longitude 181 is outside -180…180"),
        (cnap_entry(address={"lat": 50.4}), "address has only one of lat and lon"),
    ],
)
def test_malformed_cnap_entry_is_skipped_with_its_reason(dump, entry, reason):
    out, err = run("import_cnaps", dump([entry, cnap_entry(2001)]))

    assert "1 created, 0 updated, 0 unchanged, 1 skipped" in out
    assert reason in err
    assert list(Cnap.objects.values_list("code", flat=True)) == ["2001"]


# --- Files that are refused ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<html>Not found</html>", "is not a JSON file"),
        ('{"entries": [', "is not a JSON file"),
        (b"\xff\xfe\x00garbage", "is not a JSON file"),
        ('[{"code": 1}]', 'expected an object with "entries"'),
        ('{"results": []}', 'expected an object with "entries"'),
        ('{"entries": {"code": 1}}', '"entries" must be a list'),
    ],
)
@pytest.mark.parametrize("command", ["import_services", "import_cnaps"])
def test_file_that_is_not_a_dump_is_refused_and_nothing_is_written(tmp_path, command, content, message):
    path = tmp_path / "dump.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    run("import_services", DEMO / "services.json")
    run("import_cnaps", DEMO / "cnaps.json")
    before = snapshot()

    with pytest.raises(CommandError, match=message):
        run(command, path)

    assert snapshot() == before


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_cnaps", tmp_path / "absent.json")
    assert not Cnap.objects.exists()


def test_import_is_all_or_nothing(dump, monkeypatch):
    """A failure half-way through the file (here: the database) leaves nothing of the file behind."""
    run("import_cnaps", dump([cnap_entry()]))
    before = snapshot()
    original = Cnap.objects.create

    def create_failing_on_the_second(**fields):
        if fields.get("code") == "3001":
            raise RuntimeError("disk full")
        return original(**fields)

    monkeypatch.setattr(Cnap.objects, "create", create_failing_on_the_second)

    with pytest.raises(RuntimeError):
        cnaps_import(entries=[cnap_entry(name="Змінено"), cnap_entry(2001), cnap_entry(3001)])

    assert snapshot() == before


@pytest.mark.parametrize("service", [services_import, cnaps_import])
def test_entries_that_are_not_a_list_are_refused_by_the_service(service):
    with pytest.raises(ValidationError, match="entries"):
        service(entries={"code": 1})
    assert snapshot() == [[], [], []]
