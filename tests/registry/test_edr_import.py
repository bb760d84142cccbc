"""import_edr: both published formats, zips, encodings, broken dumps, idempotent counts."""

import io
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from ehealth_portal.validators import is_valid_edrpou
from registry.edr import DEMO_REGISTER_FILES, edr_import
from registry.models import EdrRecord

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent / "data" / "edr"


def record(code: str) -> EdrRecord:
    return EdrRecord.objects.get(kind="UO", code=code, is_registered=True)


def sole_proprietor(name: str) -> EdrRecord:
    return EdrRecord.objects.get(kind="FOP", name=name)


def snapshot() -> list[tuple]:
    return list(EdrRecord.objects.order_by("record_key").values_list(*_FIELDS))


_FIELDS = ("record_key", "kind", "code", "name", "short_name", "name_key", "legal_form", "address")
_FIELDS += ("state", "is_registered", "heads", "kveds", "content_hash", "imported_at")


def test_format_a_legal_entities():
    counts = edr_import([DATA / "a_uo.xml"])

    assert (counts.new, counts.updated, counts.unchanged, counts.skipped) == (3, 0, 0, 0)
    clinic = record("43770021")
    assert clinic.kind == "UO"
    assert clinic.record_key == "43770021"
    assert clinic.name == 'ТОВАРИСТВО З ОБМЕЖЕНОЮ ВІДПОВІДАЛЬНІСТЮ "КЛІНІКА ТЕСТ"'
    assert clinic.short_name == 'ТОВ "КЛІНІКА ТЕСТ"'
    assert clinic.address == "01001, м.Київ, Шевченківський район, ВУЛИЦЯ ТЕСТОВА, будинок 1"
    assert clinic.heads == ["ПЕТРЕНКО ПЕТРО ПЕТРОВИЧ"]
    assert clinic.kveds == ["86.10"]
    assert (clinic.state, clinic.is_registered) == ("зареєстровано", True)
    assert clinic.name_key == 'ТОВАРИСТВО З ОБМЕЖЕНОЮ ВІДПОВІДАЛЬНІСТЮ "КЛІНІКА ТЕСТ"'
    terminated = EdrRecord.objects.get(code="43770037")
    assert (terminated.state, terminated.is_registered, terminated.short_name) == ("припинено", False, "")
    # The 2020 order of tags (KVED before BOSS, STAN last) reads the same.
    reordered = record("43770042")
    assert reordered.heads == ["ВОЛОШИН ІГОР ВОЛОДИМИРОВИЧ"]
    assert reordered.name == 'ПРИВАТНЕ ПІДПРИЄМСТВО "ОБ\'ЄДНАННЯ ЛІКАРІВ"'
    assert reordered.kveds == ["86.21"]


def test_format_a_sole_proprietors():
    counts = edr_import([DATA / "a_fop.xml"])

    assert (counts.new, counts.skipped) == (2, 0)
    doctor = sole_proprietor("СИДОРЕНКО ОЛЕНА ІВАНІВНА")
    assert (doctor.kind, doctor.code, doctor.is_registered) == ("FOP", "", True)
    assert doctor.heads == ["СИДОРЕНКО ОЛЕНА ІВАНІВНА"]
    assert doctor.kveds == ["86.21"]
    assert doctor.record_key.startswith("FOP-") and len(doctor.record_key) <= 64
    pharmacist = sole_proprietor("КОВАЛЬ ОЛЕГ МИКОЛАЙОВИЧ")
    assert (pharmacist.state, pharmacist.is_registered, pharmacist.kveds) == ("припинено", False, ["47.73"])


def test_format_b_legal_entities():
    counts = edr_import([DATA / "b_uo.xml"])

    assert (counts.new, counts.skipped) == (3, 0)
    centre = record("21456017")
    assert centre.legal_form == "ТОВАРИСТВО З ОБМЕЖЕНОЮ ВІДПОВІДАЛЬНІСТЮ"
    assert centre.short_name == 'ТОВ "МЦ СІМЕЙНИЙ"'
    # The role is cut from each signer, restrictions included; the branch's signer is not a head.
    assert centre.heads == ["ДМИТРЕНКО АНДРІЙ ПЕТРОВИЧ", "ОЛІЙНИК ТЕТЯНА ВАСИЛІВНА"]
    # The primary activity first; the branch's activities are not the entity's.
    assert centre.kveds == ["86.21", "86.10"]
    # A code listed twice (a terminated and a registered entity) keeps both records.
    listed_twice = EdrRecord.objects.filter(code="21456038").order_by("record_key")
    assert [(r.record_key, r.is_registered, r.heads) for r in listed_twice] == [
        ("21456038", False, ["СТЕПАНЕНКО-ГРИЦАЙ ОЛЬГА МИКОЛАЇВНА"]),
        ("21456038#2", True, ["ЗАЇКА ЮРІЙ ОЛЕКСІЙОВИЧ"]),
    ]


def test_format_b_sole_proprietors():
    counts = edr_import([DATA / "b_fop.xml"])

    assert (counts.new, counts.skipped) == (3, 0)
    # No STAN in the FOP FULL schema: registered unless the record says it was terminated.
    namesakes = EdrRecord.objects.filter(name="ГОНЧАРУК ВІКТОР СЕРГІЙОВИЧ").order_by("-is_registered")
    assert [(r.state, r.is_registered) for r in namesakes] == [("зареєстровано", True), ("припинено", False)]
    assert len({r.record_key for r in namesakes}) == 2  # told apart by their registrations
    doctor = sole_proprietor("Д'ЯЧЕНКО НАТАЛІЯ ЮРІЇВНА")  # runs of spaces in the dump made one
    assert doctor.kveds == ["86.21", "62.01"]
    assert doctor.name_key == "Д'ЯЧЕНКО НАТАЛІЯ ЮРІЇВНА"


def test_zip_with_legal_entities_and_sole_proprietors():
    counts = edr_import([DATA / "uo_fop.zip"])

    assert (counts.new, counts.updated, counts.unchanged, counts.skipped) == (6, 0, 0, 0)
    assert EdrRecord.objects.filter(kind="UO").count() == 3
    assert EdrRecord.objects.filter(kind="FOP").count() == 3


def test_second_import_changes_nothing():
    first = edr_import([DATA / "uo_fop.zip", DATA / "a_uo.xml"])
    before = snapshot()

    second = edr_import([DATA / "uo_fop.zip", DATA / "a_uo.xml"])

    assert (first.new, first.updated, first.unchanged) == (9, 0, 0)
    assert (second.new, second.updated, second.unchanged, second.skipped) == (0, 0, 9, 0)
    assert snapshot() == before  # not even the import time moved


def test_changed_record_is_updated_and_the_rest_left_alone(tmp_path):
    edr_import([DATA / "b_uo.xml"])
    before = {row[0]: row for row in snapshot()}
    changed = tmp_path / "b_uo.xml"
    changed.write_bytes(
        (DATA / "b_uo.xml")
        .read_bytes()
        .replace("ДМИТРЕНКО АНДРІЙ ПЕТРОВИЧ".encode("cp1251"), "ДМИТРЕНКО АНДРІЙ ПАВЛОВИЧ".encode("cp1251"))
    )

    counts = edr_import([changed])

    assert (counts.new, counts.updated, counts.unchanged) == (0, 1, 2)
    assert record("21456017").heads == ["ДМИТРЕНКО АНДРІЙ ПАВЛОВИЧ", "ОЛІЙНИК ТЕТЯНА ВАСИЛІВНА"]
    after = {row[0]: row for row in snapshot()}
    assert after["21456038"] == before["21456038"]
    assert after["21456038#2"] == before["21456038#2"]


def test_new_record_in_a_later_dump_is_added(tmp_path):
    edr_import([DATA / "a_fop.xml"])
    later = tmp_path / "fop.xml"
    later.write_bytes(
        (DATA / "a_fop.xml")
        .read_bytes()
        .replace(
            b"</DATA>",
            "<RECORD><FIO>НОВАК ІРИНА ПЕТРІВНА</FIO><ADDRESS>м.Київ</ADDRESS><KVED>86.21 Загальна медична "
            "практика</KVED><STAN>зареєстровано</STAN></RECORD>\n</DATA>".encode("cp1251"),
        )
    )

    counts = edr_import([later])

    assert (counts.new, counts.updated, counts.unchanged) == (1, 0, 2)
    assert sole_proprietor("НОВАК ІРИНА ПЕТРІВНА").is_registered


def test_utf8_file():
    counts = edr_import([DATA / "utf8_uo.xml"])

    assert counts.new == 1
    entity = record("21456046")
    assert entity.name == 'ТОВАРИСТВО З ОБМЕЖЕНОЮ ВІДПОВІДАЛЬНІСТЮ "ЗДОРОВʼЯ"'
    assert entity.heads == ["МАРʼЯНЧУК ҐЕОРҐІЙ ЮРІЙОВИЧ"]
    assert entity.address == "01001, м.Київ, ВУЛИЦЯ ҐАНКУ, будинок 1"


def test_illegal_character_references_and_control_characters_are_dropped():
    counts = edr_import([DATA / "broken_refs.xml"])

    assert (counts.new, counts.skipped) == (2, 0)
    entity = record("21456052")
    assert entity.name == 'ТОВАРИСТВО З ОБМЕЖЕНОЮ ВІДПОВІДАЛЬНІСТЮ "ЛІКАР ПОРУЧ"'
    assert entity.short_name == 'ТОВ "ЛІКАР ПОРУЧ"'
    assert entity.address == "01001, м.Київ, ВУЛИЦЯ ТЕСТОВА, будинок 2"
    assert entity.heads == ["ДЕМʼЯНЕНКО ОЛЕНА ІВАНІВНА"]  # &#700; is a legal reference: kept
    assert record("21456069").name == 'ПРИВАТНЕ ПІДПРИЄМСТВО "ЗДОРОВ\u2019Я"'


def test_malformed_records_are_skipped_with_reasons_and_the_rest_imported():
    counts = edr_import([DATA / "truncated.xml"])

    assert (counts.new, counts.skipped) == (2, 4)
    assert set(EdrRecord.objects.values_list("code", flat=True)) == {"35542106", "35542111"}
    assert counts.problems == [
        "truncated.xml, record 2: malformed XML (mismatched tag).",
        "truncated.xml, record 4: a legal entity without a valid 8-digit EDRPOU ('1234567').",
        "truncated.xml, record 5: a legal entity without a valid 8-digit EDRPOU ('').",
        "truncated.xml, record 6: a record without a name.",
    ]


def test_file_cut_off_in_the_last_record(tmp_path):
    data = (DATA / "b_uo.xml").read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: data.rindex("ЗАЇКА".encode("cp1251"))])

    counts = edr_import([cut])

    assert (counts.new, counts.skipped) == (2, 1)
    assert "record 3: malformed XML" in counts.problems[0]
    assert not EdrRecord.objects.filter(record_key="21456038#2").exists()


@pytest.mark.parametrize("batch_size", [1, 2])
def test_batches_of_any_size_give_the_same_counts(batch_size):
    counts = edr_import([DATA / "uo_fop.zip", DATA / "truncated.xml"], batch_size=batch_size)

    assert (counts.new, counts.skipped) == (8, 4)
    assert EdrRecord.objects.filter(code="21456038").count() == 2


def test_parsing_in_worker_processes_gives_the_same_records():
    files = [DATA / "uo_fop.zip", DATA / "a_uo.xml", DATA / "truncated.xml", DATA / "broken_refs.xml"]
    in_process = edr_import(files, workers=0)
    expected = [row[:-1] for row in snapshot()]
    EdrRecord.objects.all().delete()

    in_workers = edr_import(files, workers=2)

    assert str(in_workers) == str(in_process) == "13 new, 0 updated, 0 unchanged, 4 skipped"
    assert in_workers.problems == in_process.problems
    assert [row[:-1] for row in snapshot()] == expected


def test_the_same_file_twice_in_one_import_adds_nothing_twice():
    counts = edr_import([DATA / "b_uo.xml", DATA / "b_uo.xml"])

    assert (counts.new, counts.skipped) == (3, 3)
    assert EdrRecord.objects.count() == 3
    assert counts.problems[0] == "b_uo.xml, record 1: the same record as an earlier one in this import."


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.xml", None, "no such file"),
        ("notes.txt", "Реєстр\n".encode(), "not an XML file"),
        ("utf16.xml", '<?xml version="1.0"?><DATA/>'.encode("utf-16"), "UTF-16"),
        ("odd.xml", b'<?xml version="1.0" encoding="no-such-codec"?><DATA/>', "unsupported encoding"),
        ("empty.zip", "zip", "no .xml member"),
    ],
)
def test_unreadable_files_are_refused_before_anything_is_written(tmp_path, name, content, message):
    path = tmp_path / name
    if content == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("README.txt", "no XML here")
    elif content is not None:
        path.write_bytes(content)

    with pytest.raises(ValidationError, match=message):
        edr_import([DATA / "a_uo.xml", path])

    assert not EdrRecord.objects.exists()


def test_demo_register():
    counts = edr_import(list(DEMO_REGISTER_FILES))

    assert (counts.new, counts.skipped) == (9, 0)
    clinic = record("38782323")
    assert (
        clinic.name
        == 'КОМУНАЛЬНЕ НЕКОМЕРЦІЙНЕ ПІДПРИЄМСТВО "ДЕМО ЦЕНТР ПЕРВИННОЇ МЕДИКО-САНІТАРНОЇ ДОПОМОГИ"'
    )
    assert clinic.short_name == 'КНП "ДЕМО ЦПМСД"'
    assert (clinic.heads, clinic.kveds) == (["КОВАЛЕНКО ОЛЕНА ПЕТРІВНА"], ["86.21"])
    doctor = EdrRecord.objects.get(kind="FOP", name="ШЕВЧУК АНДРІЙ ІВАНОВИЧ")
    assert doctor.is_registered and doctor.kveds[0] == "86.21"
    assert (
        EdrRecord.objects.filter(
            kind="FOP", name="БОНДАРЕНКО МАРІЯ ОЛЕКСАНДРІВНА", is_registered=True
        ).count()
        == 2
    )
    assert EdrRecord.objects.filter(kind="UO", is_registered=False).count() == 2
    assert all(
        is_valid_edrpou(code) for code in EdrRecord.objects.filter(kind="UO").values_list("code", flat=True)
    )


def test_command_prints_the_counts_and_skipped_records():
    out, err = StringIO(), StringIO()

    call_command("import_edr", str(DATA / "truncated.xml"), stdout=out, stderr=err)
    call_command("import_edr", str(DATA / "truncated.xml"), stdout=out, stderr=io.StringIO())

    lines = out.getvalue().splitlines()
    assert lines[0].endswith(": 2 new, 0 updated, 0 unchanged, 4 skipped")
    assert lines[1].endswith(": 0 new, 0 updated, 2 unchanged, 4 skipped")
    assert "skipped: truncated.xml, record 2: malformed XML (mismatched tag)." in err.getvalue()


def test_command_refuses_a_missing_file_and_writes_nothing(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_edr", str(DATA / "a_uo.xml"), str(tmp_path / "missing.xml"), stdout=StringIO())

    assert not EdrRecord.objects.exists()


def test_a_row_inserted_meanwhile_by_another_import_is_updated_not_duplicated():
    from django.db import connection, transaction
    from django.utils import timezone

    from registry.edr import _write
    from registry.edr_parsing import _row

    edr_import([DATA / "a_fop.xml"])
    stale = EdrRecord.objects.get(name="СИДОРЕНКО ОЛЕНА ІВАНІВНА")
    values = (stale.record_key, "FOP", "", stale.name, "", stale.name_key, "", "нова адреса", "зареєстровано")
    values += (True, '["СИДОРЕНКО ОЛЕНА ІВАНІВНА"]', '["86.21"]', "0" * 64)
    stamp = timezone.now().isoformat() if connection.vendor == "postgresql" else None

    with transaction.atomic():
        _write(new=[_row(values, stamp)[3]], changed=[])  # classified as new before the other wrote it

    assert EdrRecord.objects.count() == 2
    assert EdrRecord.objects.get(record_key=stale.record_key).address == "нова адреса"


def test_backslashes_and_quotes_survive_the_copy(tmp_path):
    path = tmp_path / "odd.xml"
    record_xml = (
        '<RECORD><NAME>ТОВ "А\\Б" &amp; &lt;В&gt;</NAME><EDRPOU>21456017</EDRPOU>'
        '<BOSS>ПЕТРЕНКО \\ ПЕТРО "ПЕТРОВИЧ"</BOSS><STAN>зареєстровано</STAN></RECORD>'
    )
    path.write_bytes(
        f'<?xml version="1.0" encoding="windows-1251"?><DATA>{record_xml}</DATA>'.encode("cp1251")
    )

    edr_import([path])

    entity = record("21456017")
    assert entity.name == 'ТОВ "А\\Б" & <В>'
    assert entity.heads == ['ПЕТРЕНКО \\ ПЕТРО "ПЕТРОВИЧ"']


def test_a_legal_entity_without_a_state_is_not_taken_for_registered(tmp_path):
    path = tmp_path / "uo.xml"
    path.write_bytes(
        '<?xml version="1.0" encoding="windows-1251"?><DATA><RECORD><NAME>ТОВ "БЕЗ СТАНУ"</NAME>'
        "<EDRPOU>21456017</EDRPOU><BOSS>ПЕТРЕНКО ПЕТРО ПЕТРОВИЧ</BOSS></RECORD></DATA>".encode("cp1251")
    )

    edr_import([path])

    entity = EdrRecord.objects.get(code="21456017")
    assert (entity.state, entity.is_registered) == ("", False)


def test_the_parser_agrees_with_the_model():
    from registry import edr_parsing

    assert EdrRecord._meta.get_field("name_key").max_length == edr_parsing.NAME_KEY_LENGTH
    assert tuple(EdrRecord.Kind.values) == (edr_parsing.LEGAL_ENTITY, edr_parsing.SOLE_PROPRIETOR)
    assert set(edr_parsing.COLUMNS) <= {f.column for f in EdrRecord._meta.fields}
