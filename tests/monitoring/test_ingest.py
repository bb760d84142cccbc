"""Ingesting pulled appeals: validation against the §6 contract, upsert, quarantine.

The suite runs on PostgreSQL (COPY + INSERT … ON CONFLICT) and on SQLite (the portable path); both must
give the same results.
"""

import datetime
import hashlib
import json

import pytest

from monitoring.ingest import IngestResult, appeals_ingest
from monitoring.models import Appeal, QuarantinedRecord
from tests.factories import (
    AdministrativeServiceFactory,
    CnapFactory,
    CnapSystemFactory,
    PullRunFactory,
    ServiceVariationFactory,
)

pytestmark = pytest.mark.django_db

KYIV_WINTER = datetime.timezone(datetime.timedelta(hours=2))
_ABSENT = object()  # a key left out of the record


@pytest.fixture
def system():
    return CnapSystemFactory(cnap=CnapFactory(code="1234"))


@pytest.fixture
def run(system):
    return PullRunFactory(system=system)


@pytest.fixture(autouse=True)
def register():
    """Service 00056 has two variations: 10 calendar days and 5 working days; 00077 one of 3 days."""
    passport = AdministrativeServiceFactory(identifier="00056")
    ServiceVariationFactory(
        service=passport, identifier="1", legal_term_days=10, legal_term_working_days=False
    )
    ServiceVariationFactory(service=passport, identifier="2", legal_term_days=5, legal_term_working_days=True)
    ServiceVariationFactory(service=passport, identifier="old", legal_term_days=1, is_active=False)
    ServiceVariationFactory(
        service=AdministrativeServiceFactory(identifier="00077"), identifier="1", legal_term_days=3
    )
    AdministrativeServiceFactory(identifier="00099")  # no variations: no legal term
    AdministrativeServiceFactory(identifier="00100", is_active=False)


def record(**overrides) -> dict:
    """A valid record as in the contract's example, registered on Friday 6 November 2026."""
    data = {
        "id": "A-2026-000123",
        "asc_code": 1234,
        "service_code": "00056",
        "variation_code": "1",
        "channel": "offline",
        "applicant_type": "individual",
        "status": "issued",
        "result": "positive",
        "registered_at": "2026-11-06T10:15:00+02:00",
        "decided_at": "2026-11-09T16:00:00+02:00",
        "issued_at": "2026-11-10T09:30:00+02:00",
        "updated_at": "2026-11-10T09:30:00+02:00",
        "is_test": False,
        "is_consultation": False,
        "feedback": {"rating": 4, "loyalty": 9, "submitted_at": "2026-11-10T09:40:00+02:00"},
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not _ABSENT}


def ingest(system, run, *records) -> IngestResult:
    return appeals_ingest(system=system, run=run, records=list(records))


def kyiv(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=KYIV_WINTER)


# --- Valid records ------------------------------------------------------------------------------------


def test_valid_record_is_stored_with_its_processing_time(system, run):
    result = ingest(system, run, record(deadline_at="2026-11-20T23:59:59+02:00"))

    assert result == IngestResult(created=1)
    appeal = Appeal.objects.get()
    assert (appeal.cnap_id, appeal.appeal_id, appeal.service_id, appeal.variation_code) == (
        "1234",
        "A-2026-000123",
        "00056",
        "1",
    )
    assert appeal.system == system
    assert (appeal.channel, appeal.applicant_type, appeal.status, appeal.result) == (
        "offline",
        "individual",
        "issued",
        "positive",
    )
    assert appeal.registered_at == kyiv(2026, 11, 6, 10, 15)
    assert appeal.decided_at == kyiv(2026, 11, 9, 16, 0)
    assert appeal.issued_at == kyiv(2026, 11, 10, 9, 30)
    assert appeal.source_updated_at == kyiv(2026, 11, 10, 9, 30)
    assert appeal.processing_seconds == 3 * 86400 + 5 * 3600 + 45 * 60
    # The system's own deadline is kept as sent.
    assert appeal.deadline_at == kyiv(2026, 11, 20, 23, 59, 59)
    assert appeal.deadline_from_register is False
    assert (appeal.rating, appeal.loyalty, appeal.feedback_at) == (4, 9, kyiv(2026, 11, 10, 9, 40))
    assert (appeal.is_test, appeal.is_consultation) == (False, False)


def test_missing_deadline_counts_calendar_days_of_the_named_variation(system, run):
    ingest(system, run, record(variation_code="1"))

    appeal = Appeal.objects.get()
    assert appeal.deadline_at == kyiv(
        2026, 11, 16, 23, 59, 59, 999999
    )  # Friday + 10 days, end of day in Kyiv
    assert appeal.deadline_from_register is True


def test_missing_deadline_counts_working_days_across_the_weekend(system, run):
    ingest(system, run, record(variation_code="2"))

    # Friday + 5 working days: Mon 9 … Fri 13 November.
    assert Appeal.objects.get().deadline_at == kyiv(2026, 11, 13, 23, 59, 59, 999999)


def test_term_counts_from_the_registration_day_in_kyiv(system, run):
    # 23:30 UTC on Friday is 01:30 on Saturday in Kyiv: one working day later is Monday.
    ServiceVariationFactory(
        service=AdministrativeServiceFactory(identifier="00088"),
        legal_term_days=1,
        legal_term_working_days=True,
    )
    ingest(
        system, run, record(service_code="00088", variation_code=None, registered_at="2026-11-06T23:30:00Z")
    )

    assert Appeal.objects.get().deadline_at == kyiv(2026, 11, 9, 23, 59, 59, 999999)


def test_appeal_naming_no_variation_uses_the_services_only_active_one(system, run):
    ingest(system, run, record(service_code="00077", variation_code=_ABSENT))

    appeal = Appeal.objects.get()
    assert appeal.variation_code == ""
    assert appeal.deadline_at == kyiv(2026, 11, 9, 23, 59, 59, 999999)
    assert appeal.deadline_from_register is True


@pytest.mark.parametrize(
    ("service_code", "variation_code"),
    [("00056", _ABSENT), ("00056", "old"), ("00099", _ABSENT)],
    ids=["ambiguous", "switched-off variation", "no variations"],
)
def test_no_deadline_and_no_term_is_stored_without_deadline(system, run, service_code, variation_code):
    result = ingest(system, run, record(service_code=service_code, variation_code=variation_code))

    assert result == IngestResult(created=1)
    appeal = Appeal.objects.get()
    assert appeal.deadline_at is None
    assert appeal.deadline_from_register is False


def test_open_appeal_has_no_processing_time_and_optional_fields_may_be_absent(system, run):
    minimal = {
        key: value
        for key, value in record().items()
        if key in {"id", "asc_code", "service_code", "channel", "status", "registered_at", "updated_at"}
    }
    ingest(system, run, {**minimal, "asc_code": "1234", "status": "in_progress", "extra": {"ignored": True}})

    appeal = Appeal.objects.get()
    assert appeal.status == "in_progress"
    assert (appeal.decided_at, appeal.processing_seconds, appeal.result, appeal.applicant_type) == (
        None,
        None,
        "",
        "",
    )
    assert (appeal.rating, appeal.loyalty, appeal.feedback_at) == (None, None, None)


# --- Validation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "path", "code"),
    [
        ({"id": _ABSENT}, "$.id", "required"),
        ({"id": 123}, "$.id", "invalid_type"),
        ({"id": ""}, "$.id", "invalid_type"),
        ({"id": "A" * 101}, "$.id", "too_long"),
        ({"asc_code": _ABSENT}, "$.asc_code", "required"),
        ({"asc_code": "12a4"}, "$.asc_code", "invalid_type"),
        ({"asc_code": True}, "$.asc_code", "invalid_type"),
        ({"asc_code": 4321}, "$.asc_code", "wrong_cnap"),
        ({"service_code": _ABSENT}, "$.service_code", "required"),
        ({"service_code": 56}, "$.service_code", "invalid_type"),
        ({"service_code": "56"}, "$.service_code", "unknown_service"),  # leading zeros matter
        ({"service_code": "00100"}, "$.service_code", "inactive_service"),
        ({"variation_code": "9"}, "$.variation_code", "unknown_variation"),
        ({"variation_code": 1}, "$.variation_code", "invalid_type"),
        ({"channel": _ABSENT}, "$.channel", "required"),
        ({"channel": "fax"}, "$.channel", "invalid_choice"),
        ({"status": "done"}, "$.status", "invalid_choice"),
        ({"status": None}, "$.status", "required"),
        ({"result": "negative"}, "$.result", "invalid_choice"),
        ({"applicant_type": "person"}, "$.applicant_type", "invalid_choice"),
        ({"registered_at": _ABSENT}, "$.registered_at", "required"),
        ({"registered_at": "2026-11-06T10:15:00"}, "$.registered_at", "invalid_datetime"),  # no offset
        ({"registered_at": "2026-11-06"}, "$.registered_at", "invalid_datetime"),
        ({"registered_at": "2026-13-06T10:15:00+02:00"}, "$.registered_at", "invalid_datetime"),
        ({"registered_at": 1762416900}, "$.registered_at", "invalid_datetime"),
        ({"updated_at": _ABSENT}, "$.updated_at", "required"),
        ({"decided_at": "yesterday"}, "$.decided_at", "invalid_datetime"),
        ({"issued_at": "2026-11-10 09:30"}, "$.issued_at", "invalid_datetime"),
        ({"deadline_at": "2026-11-20T23:59:59"}, "$.deadline_at", "invalid_datetime"),
        ({"decided_at": "2026-11-06T10:14:59+02:00"}, "$.decided_at", "decided_before_registered"),
        ({"issued_at": "2026-11-06T10:14:59+02:00"}, "$.issued_at", "issued_before_registered"),
        ({"registered_at": "0001-01-01T00:00:00+02:00"}, "$.registered_at", "out_of_range"),
        ({"updated_at": "9999-12-31T23:59:59-02:00"}, "$.updated_at", "out_of_range"),
        ({"asc_code": "\u00b2"}, "$.asc_code", "invalid_type"),  # a superscript two is a digit to isdigit()
        ({"asc_code": "1" * 5000}, "$.asc_code", "invalid_type"),
        ({"is_test": "false"}, "$.is_test", "invalid_type"),
        ({"is_consultation": 0}, "$.is_consultation", "invalid_type"),
        ({"feedback": 5}, "$.feedback", "invalid_type"),
        ({"feedback": {"rating": 6}}, "$.feedback.rating", "out_of_range"),
        ({"feedback": {"rating": 0}}, "$.feedback.rating", "out_of_range"),
        ({"feedback": {"rating": 4.5}}, "$.feedback.rating", "invalid_type"),
        ({"feedback": {"loyalty": 11}}, "$.feedback.loyalty", "out_of_range"),
        ({"feedback": {"loyalty": True}}, "$.feedback.loyalty", "invalid_type"),
        ({"feedback": {"submitted_at": "2026-11-10"}}, "$.feedback.submitted_at", "invalid_datetime"),
    ],
)
def test_each_rule_quarantines_the_record_with_its_path_and_code(system, run, overrides, path, code):
    sent = record(**overrides)
    result = ingest(system, run, sent)

    assert result == IngestResult(quarantined=1)
    assert not Appeal.objects.exists()
    kept = QuarantinedRecord.objects.get()
    assert [(reason["path"], reason["code"]) for reason in kept.reasons] == [(path, code)]
    assert all(reason["message"] for reason in kept.reasons)
    assert kept.record == sent
    assert (kept.system, kept.run, kept.times_seen) == (system, run, 1)


@pytest.mark.parametrize("appeal_id", ["A-1\x00", "A-\ud800", "A-\n1"])
def test_id_that_the_database_cannot_keep_is_quarantined_under_a_hash(system, run, appeal_id):
    result = ingest(system, run, record(id=appeal_id), record(id="A-2"))

    assert result == IngestResult(created=1, quarantined=1)
    assert list(Appeal.objects.values_list("appeal_id", flat=True)) == ["A-2"]
    kept = QuarantinedRecord.objects.get()
    assert kept.appeal_id == ""
    assert [(reason["path"], reason["code"]) for reason in kept.reasons] == [("$.id", "invalid_characters")]
    assert kept.record["id"].startswith("A-") and kept.record["service_code"] == "00056"


@pytest.mark.parametrize("service_code", ["000\x0056", "\ud800", "0" * 5000])
def test_a_service_code_no_database_can_look_up_is_an_unknown_service(system, run, service_code):
    result = ingest(system, run, record(id="A-1", service_code=service_code), record(id="A-2"))

    assert result == IngestResult(created=1, quarantined=1)
    kept = QuarantinedRecord.objects.get()
    assert [(reason["path"], reason["code"]) for reason in kept.reasons] == [
        ("$.service_code", "unknown_service")
    ]


def test_the_soft_time_limit_is_not_taken_for_a_bad_record(system, run, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    def time_is_up(*args):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr("monitoring.ingest.deadline_for", time_is_up)

    with pytest.raises(SoftTimeLimitExceeded):
        ingest(system, run, record(id="A-1"))
    assert not QuarantinedRecord.objects.exists()


def test_values_json_cannot_store_are_kept_readable_in_quarantine(system, run):
    ingest(system, run, record(channel="fax\x00", note=float("nan"), extra={"deep": "\udfff"}))

    kept = QuarantinedRecord.objects.get()
    assert kept.record["channel"] == "fax\ufffd"
    assert kept.record["note"] == "nan"
    assert kept.record["extra"] == {"deep": "?"}


def test_a_record_no_rule_foresaw_is_quarantined_and_the_page_goes_on(system, run, monkeypatch):
    def overflow(*args):
        raise OverflowError("date value out of range")

    monkeypatch.setattr("monitoring.ingest.deadline_for", overflow)
    result = ingest(system, run, record(id="A-1"), record(id="A-2", deadline_at="2026-11-20T23:59:59+02:00"))

    assert result == IngestResult(created=1, quarantined=1)
    assert Appeal.objects.get().appeal_id == "A-2"
    kept = QuarantinedRecord.objects.get()
    assert (kept.appeal_id, [reason["code"] for reason in kept.reasons]) == ("A-1", ["unprocessable"])


def test_every_failing_field_is_reported(system, run):
    ingest(system, run, record(asc_code=1, channel="fax", feedback={"rating": 9}))

    reasons = QuarantinedRecord.objects.get().reasons
    assert [reason["path"] for reason in reasons] == ["$.asc_code", "$.channel", "$.feedback.rating"]


def test_record_without_usable_id_is_kept_under_a_hash_of_its_content(system, run):
    broken = record(id=None)
    ingest(system, run, broken, ["not", "an", "object"])

    canonical = json.dumps(broken, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    kept = {q.record_key: q for q in QuarantinedRecord.objects.all()}
    assert len(kept) == 2
    assert kept[hashlib.sha256(canonical.encode()).hexdigest()].appeal_id == ""
    not_object = next(q for q in kept.values() if q.record == ["not", "an", "object"])
    assert not_object.reasons == [{"path": "$", "code": "invalid_type", "message": "Expected a JSON object."}]


def test_quarantined_record_seen_again_is_bumped_not_repeated(system, run):
    ingest(system, run, record(channel="fax"))
    later_run = PullRunFactory(system=system)
    ingest(system, later_run, record(channel="fax", status="done"))

    kept = QuarantinedRecord.objects.get()
    assert kept.times_seen == 2
    assert kept.run == later_run
    assert kept.record["status"] == "done"
    assert [reason["code"] for reason in kept.reasons] == ["invalid_choice", "invalid_choice"]
    assert kept.last_seen_at >= kept.first_seen_at


def test_valid_version_removes_the_quarantined_record(system, run):
    ingest(system, run, record(channel="fax"), record(id="B-1", channel="fax"))

    result = ingest(system, run, record())

    assert result == IngestResult(created=1)
    assert Appeal.objects.get().appeal_id == "A-2026-000123"
    assert list(QuarantinedRecord.objects.values_list("record_key", flat=True)) == ["B-1"]


def test_other_systems_quarantine_is_left_alone(system, run):
    other = CnapSystemFactory(cnap=CnapFactory(code="5678"))
    ingest(other, None, record(asc_code=5678, channel="fax"))

    ingest(system, run, record())

    assert QuarantinedRecord.objects.get().system == other


# --- Upsert -------------------------------------------------------------------------------------------


def snapshot() -> list:
    return list(Appeal.objects.order_by("appeal_id").values())


def test_reingesting_the_same_page_changes_nothing(system, run):
    page = [record(id=f"A-{n}") for n in range(5)] + [record(id="bad", status="done")]
    assert ingest(system, run, *page) == IngestResult(created=5, quarantined=1)
    before = snapshot()

    assert ingest(system, PullRunFactory(system=system), *page) == IngestResult(unchanged=5, quarantined=1)

    assert snapshot() == before  # pulled_at included
    assert Appeal.objects.count() == 5
    assert QuarantinedRecord.objects.get().times_seen == 2


def test_newer_version_updates_the_appeal(system, run):
    ingest(
        system,
        run,
        record(status="ready", result=None, issued_at=None, updated_at="2026-11-09T16:00:00+02:00"),
    )
    first = Appeal.objects.get()

    result = ingest(system, run, record())

    assert result == IngestResult(updated=1)
    appeal = Appeal.objects.get()
    assert (appeal.status, appeal.result, appeal.issued_at) == (
        "issued",
        "positive",
        kyiv(2026, 11, 10, 9, 30),
    )
    assert appeal.source_updated_at == kyiv(2026, 11, 10, 9, 30)
    assert appeal.first_pulled_at == first.first_pulled_at
    assert appeal.pulled_at > first.pulled_at


def test_older_version_never_overwrites_a_newer_one(system, run):
    ingest(system, run, record())
    before = snapshot()

    result = ingest(system, run, record(status="ready", result=None, updated_at="2026-11-09T16:00:00+02:00"))

    assert result == IngestResult(unchanged=1)
    assert snapshot() == before


def test_same_version_with_different_values_updates(system, run):
    ingest(system, run, record())

    result = ingest(system, run, record(feedback={"rating": 2, "loyalty": 3}))

    assert result == IngestResult(updated=1)
    assert (Appeal.objects.get().rating, Appeal.objects.get().loyalty) == (2, 3)


def test_same_instant_in_another_offset_is_the_same_version(system, run):
    ingest(system, run, record())

    result = ingest(
        system, run, record(updated_at="2026-11-10T07:30:00Z", registered_at="2026-11-06T08:15:00Z")
    )

    assert result == IngestResult(unchanged=1)


def test_repeated_id_in_a_page_the_last_wins(system, run):
    result = ingest(system, run, record(status="ready"), record(status="issued"))

    assert result == IngestResult(created=1)
    assert Appeal.objects.get().status == "issued"


def test_broken_version_before_a_valid_one_in_the_page_is_not_quarantined(system, run):
    result = ingest(system, run, record(status="done"), record())

    assert result == IngestResult(created=1)
    assert not QuarantinedRecord.objects.exists()


def test_broken_version_after_a_valid_one_is_quarantined_and_the_valid_one_stored(system, run):
    ingest(system, run, record(status="done"))

    result = ingest(system, run, record(), record(status="done"))

    assert result == IngestResult(created=1, quarantined=1)
    assert Appeal.objects.get().status == "issued"
    kept = QuarantinedRecord.objects.get()
    assert (kept.record_key, kept.times_seen) == ("A-2026-000123", 2)


def test_mixed_page_keeps_the_counts(system, run):
    ingest(
        system, run, record(id="same"), record(id="old", status="ready"), record(id="fixed", channel="fax")
    )
    page = [
        record(id="new-1"),
        record(id="new-2", variation_code="2"),
        record(id="same"),
        record(id="old", updated_at="2026-11-11T09:00:00+02:00"),
        record(id="fixed"),
        record(id="bad-1", service_code="00000"),
        record(id="bad-2", decided_at="2026-11-01T00:00:00+02:00"),
        record(id=None),
    ]

    result = ingest(system, run, *page)

    assert result == IngestResult(created=3, updated=1, unchanged=1, quarantined=3)
    assert Appeal.objects.count() == 5
    assert set(QuarantinedRecord.objects.values_list("appeal_id", flat=True)) == {"bad-1", "bad-2", ""}
    assert Appeal.objects.get(appeal_id="old").status == "issued"


def test_appeals_of_two_cnaps_with_the_same_id_are_separate(system, run):
    other = CnapSystemFactory(cnap=CnapFactory(code="5678"))
    ingest(system, run, record())
    result = ingest(other, None, record(asc_code=5678))

    assert result == IngestResult(created=1)
    assert sorted(Appeal.objects.values_list("cnap_id", flat=True)) == ["1234", "5678"]


def test_empty_page_does_nothing(system, run):
    assert ingest(system, run) == IngestResult()


def test_a_page_writes_only_its_own_records(system, run):
    # The test runs in one transaction, as a caller's may: the first page's rows must not ride along
    # with the second page (an appeal deleted in between stays deleted).
    ingest(system, run, record(id="one"))
    Appeal.objects.all().delete()

    assert ingest(system, run, record(id="two")) == IngestResult(created=1)
    assert list(Appeal.objects.values_list("appeal_id", flat=True)) == ["two"]
