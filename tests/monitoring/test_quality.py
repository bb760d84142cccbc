"""Quality figures computed in the database, checked on hand-made appeals (run on SQLite and PostgreSQL)."""

import datetime

import pytest

from monitoring.models import Appeal, QuarantinedRecord
from monitoring.selectors import PercentileCont, failing_cnap_systems, quality_by_day, quality_figures
from tests.factories import (
    AdministrativeServiceFactory,
    AppealFactory,
    CnapFactory,
    CnapSystemFactory,
    PullRunFactory,
)

pytestmark = pytest.mark.django_db

KYIV = datetime.timezone(datetime.timedelta(hours=2))  # Kyiv in November (EET)
DAY = 86400
NOV = {"date_from": datetime.date(2026, 11, 1), "date_to": datetime.date(2026, 11, 30)}
NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


def at(day, hour=10, minute=0):
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=KYIV)


def appeal(system, *, days=None, registered=None, **fields):
    """An appeal decided `days` after registration (None: still open)."""
    registered = registered or at(2)
    decided = None if days is None else registered + datetime.timedelta(days=days)
    defaults = {
        "system": system,
        "registered_at": registered,
        "decided_at": decided,
        "issued_at": decided,
        "status": "issued" if decided else "in_progress",
        "result": "positive" if decided else "",
        "processing_seconds": None if days is None else int(days * DAY),
    }
    return AppealFactory(**{**defaults, **fields})


@pytest.fixture
def system():
    return CnapSystemFactory(cnap=CnapFactory(code="1001", name="ЦНАП Бучі", region="Київська область"))


def total(**filters):
    return quality_figures(**{**NOV, "group_by": "cnap", "now": NOW, **filters}).total


def test_volume_by_channel_leaves_out_test_appeals_and_consultations(system):
    appeal(system, days=1, channel="online")
    appeal(system, days=1, channel="online")
    appeal(system, days=1, channel="offline")
    appeal(system, days=1, channel="mail", is_test=True)
    appeal(system, days=1, channel="remote", is_consultation=True)

    figures = total()

    assert figures.appeals == 3
    assert figures.by_channel == {"offline": 1, "remote": 0, "online": 2, "mail": 0}
    assert figures.online_share == pytest.approx(200 / 3)


def test_period_is_inclusive_kyiv_days(system):
    appeal(system, days=1, registered=at(1, 0, 0))  # 31 Oct 22:00 UTC: on 1 Nov in Kyiv, inside
    appeal(system, days=1, registered=at(30, 23, 59))  # 30 Nov 21:59 UTC, inside
    appeal(system, days=1, registered=datetime.datetime(2026, 10, 31, 23, 59, tzinfo=KYIV))  # outside
    appeal(system, days=1, registered=datetime.datetime(2026, 12, 1, 0, 0, tzinfo=KYIV))  # outside

    assert total().appeals == 2
    one_day = quality_figures(
        date_from=datetime.date(2026, 11, 1), date_to=datetime.date(2026, 11, 1), group_by="day"
    )
    assert [(row.key, row.appeals) for row in one_day.rows] == [("2026-11-01", 1)]


def test_timeliness_counts_closed_appeals_with_a_deadline(system):
    registered = at(2)
    appeal(system, days=3, deadline_at=registered + datetime.timedelta(days=10))  # on time
    appeal(system, days=10, deadline_at=registered + datetime.timedelta(days=10))  # on the deadline: on time
    appeal(system, days=12, deadline_at=registered + datetime.timedelta(days=10))  # late
    appeal(system, days=2, deadline_at=None)  # closed, no deadline: not counted either way
    appeal(system, deadline_at=at(20))  # open, overdue on 1 Dec
    appeal(system, deadline_at=datetime.datetime(2026, 12, 5, tzinfo=KYIV))  # open, not yet due
    appeal(system, deadline_at=at(20), status="cancelled")  # withdrawn: not a backlog

    figures = total()

    assert (figures.closed, figures.closed_with_deadline, figures.on_time) == (4, 3, 2)
    assert figures.on_time_share == pytest.approx(200 / 3)
    assert figures.overdue_open == 1
    assert figures.missing_deadline == 1
    assert figures.missing_deadline_share == pytest.approx(100 / 7)


def test_a_closed_appeal_is_decided_or_issued_and_withdrawn_ones_are_not_decisions(system):
    registered = at(2)
    deadline = registered + datetime.timedelta(days=10)
    # Issued with no decision time: closed, timed by the issue.
    appeal(
        system,
        days=None,
        issued_at=registered + datetime.timedelta(days=4),
        status="issued",
        deadline_at=deadline,
    )
    # Refused with no time at all: closed and a refusal, but neither on time nor late.
    appeal(system, days=None, status="refused", result="", deadline_at=deadline)
    # Decided, then cancelled or returned: withdrawn, counted in no figure of decisions.
    appeal(system, days=2, status="cancelled", result="", deadline_at=deadline)
    appeal(system, days=2, status="returned", result="", deadline_at=deadline)

    figures = total()

    assert (figures.closed, figures.closed_with_deadline, figures.on_time) == (2, 1, 1)
    assert (figures.refusals, figures.refusal_rate) == (1, pytest.approx(50))
    assert figures.overdue_open == 0


def test_a_decision_in_the_last_instant_of_the_deadline_is_on_time(system):
    last_instant = datetime.datetime(2026, 11, 12, 23, 59, 59, 999999, tzinfo=KYIV)
    appeal(
        system,
        days=None,
        decided_at=last_instant - datetime.timedelta(microseconds=500000),
        status="issued",
        deadline_at=last_instant,
    )
    appeal(
        system,
        days=None,
        decided_at=last_instant + datetime.timedelta(microseconds=1),
        status="issued",
        deadline_at=last_instant,
    )

    figures = total()

    assert (figures.closed_with_deadline, figures.on_time) == (2, 1)


def test_processing_time_median_and_p90_interpolate(system):
    for days in [1, 2, 3, 4, 10]:
        appeal(system, days=days)
    appeal(system)  # open: no processing time

    figures = total()

    assert figures.median_days == pytest.approx(3)
    # p90 of 1,2,3,4,10 at position 0.9 × 4 = 3.6: 4 + 0.6 × (10 − 4) = 7.6
    assert figures.p90_days == pytest.approx(7.6)


def test_percentile_of_an_even_count_and_of_nothing(system):
    for days in [1, 2, 3, 4]:
        appeal(system, days=days)
    assert total().median_days == pytest.approx(2.5)
    values = Appeal.objects.filter(channel="online").aggregate(
        median=PercentileCont("processing_seconds", 0.5)
    )
    assert values == {"median": None}
    with pytest.raises(ValueError):
        PercentileCont("processing_seconds", 90)


def test_refusal_rate_is_refusals_among_closed(system):
    appeal(system, days=1, result="refusal", status="refused")
    appeal(system, days=1)
    appeal(system, days=1)
    appeal(system, days=1)
    appeal(system)  # open

    figures = total()

    assert (figures.refusals, figures.closed) == (1, 4)
    assert figures.refusal_rate == pytest.approx(25)


def test_satisfaction_mean_and_response_rate(system):
    appeal(system, days=1, rating=5)
    appeal(system, days=1, rating=4)
    appeal(system, days=1, rating=2)
    appeal(system, days=1)  # issued, no answer
    appeal(system)  # not issued

    figures = total()

    assert figures.rating_mean == pytest.approx(11 / 3)
    assert (figures.ratings, figures.issued) == (3, 4)
    assert figures.response_rate == pytest.approx(75)


def test_response_rate_counts_only_answers_of_applicants_who_got_their_result(system):
    appeal(system, days=1, rating=5)  # issued, answered
    appeal(system, days=1)  # issued, no answer
    appeal(system, rating=1)  # still open, answered (a complaint on the way): in the mean only
    appeal(system, rating=2)

    figures = total()

    assert (figures.ratings, figures.issued) == (3, 2)
    assert figures.rating_mean == pytest.approx(8 / 3)
    assert figures.response_rate == pytest.approx(50)


def test_nps_subtracts_detractors_and_can_be_negative(system):
    for loyalty in [10, 9, 8, 7, 6, 0, 3, 2]:
        appeal(system, days=1, loyalty=loyalty)
    appeal(system, days=1)  # no answer: not counted

    figures = total()

    # 2 promoters, 2 passives, 4 detractors of 8 answers: 25 % − 50 %
    assert (figures.loyalty_answers, figures.promoters, figures.detractors) == (8, 2, 4)
    assert figures.nps == pytest.approx(-25)


def test_nps_is_undefined_without_answers(system):
    appeal(system, days=1)
    assert total().nps is None
    assert total().rating_mean is None


def test_groups_by_cnap_service_and_region(system):
    other = CnapSystemFactory(cnap=CnapFactory(code="2002", name="ЦНАП Львова", region="Львівська область"))
    passport = AdministrativeServiceFactory(identifier="00056", name="Паспорт")
    appeal(system, days=2, service=passport)
    appeal(system, days=4, service=passport, result="refusal")
    appeal(other, days=6)

    by_cnap = quality_figures(**NOV, group_by="cnap")
    assert [(row.key, row.label, row.appeals) for row in by_cnap.rows] == [
        ("1001", "ЦНАП Бучі", 2),
        ("2002", "ЦНАП Львова", 1),
    ]
    assert by_cnap.rows[0].median_days == pytest.approx(3)
    assert by_cnap.total.appeals == 3
    assert by_cnap.total.median_days == pytest.approx(4)

    by_service = quality_figures(**NOV, group_by="service")
    assert ("00056", "Паспорт", 2) in [(row.key, row.label, row.appeals) for row in by_service.rows]

    by_region = quality_figures(**NOV, group_by="region")
    assert [(row.key, row.appeals, row.cnaps) for row in by_region.rows] == [
        ("Київська область", 2, 1),
        ("Львівська область", 1, 1),
    ]

    only_lviv = quality_figures(**NOV, group_by="cnap", region="Львівська область")
    assert [row.key for row in only_lviv.rows] == ["2002"]
    only_passport = quality_figures(**NOV, group_by="cnap", service_code="00056", cnap_code="1001")
    assert only_passport.total.appeals == 2
    assert only_passport.total.refusal_rate == pytest.approx(50)


def quarantine(system, key, last_seen):
    record = QuarantinedRecord.objects.create(system=system, record_key=key, record={}, reasons=[])
    QuarantinedRecord.objects.filter(pk=record.pk).update(last_seen_at=last_seen)  # bypass auto_now


def test_data_quality_of_a_cnap(system):
    other = CnapSystemFactory(cnap=CnapFactory(code="2002", region="Львівська область"))
    for _ in range(2):
        appeal(system, days=1)
    appeal(system, days=1, deadline_at=None)
    quarantine(system, "bad-1", at(10))
    quarantine(system, "bad-2", datetime.datetime(2026, 10, 31, 23, 0, tzinfo=KYIV))  # before the period
    quarantine(other, "bad-3", at(10))
    finished = at(10)
    PullRunFactory(system=system, status="SUCCEEDED", finished_at=finished)
    PullRunFactory(system=system, status="SUCCEEDED", finished_at=finished)
    PullRunFactory(system=system, status="FAILED", finished_at=finished)
    PullRunFactory(system=system, status="RUNNING")  # not finished: not counted
    PullRunFactory(
        system=system, status="FAILED", finished_at=at(1, 0, 0) - datetime.timedelta(minutes=1)
    )  # before
    PullRunFactory(system=other, status="FAILED", finished_at=finished)

    figures = quality_figures(**NOV, group_by="cnap")

    bucha = figures.rows[0]
    assert bucha.key == "1001"
    assert (bucha.pull_runs, bucha.pull_runs_succeeded) == (3, 2)
    assert bucha.pull_success_share == pytest.approx(200 / 3)
    assert bucha.quarantined == 1
    assert bucha.quarantine_share == pytest.approx(25)  # 1 of 3 appeals + 1 record
    assert bucha.missing_deadline_share == pytest.approx(100 / 3)
    # The total counts the other CNAP's runs and records though it has no appeals in the period.
    assert (figures.total.pull_runs, figures.total.pull_runs_succeeded, figures.total.quarantined) == (
        4,
        2,
        2,
    )
    by_region = quality_figures(**NOV, group_by="region")
    assert [(row.key, row.pull_runs) for row in by_region.rows] == [("Київська область", 3)]
    only_bucha = quality_figures(**NOV, group_by="cnap", cnap_code="1001")
    assert (only_bucha.total.pull_runs, only_bucha.total.quarantined) == (3, 1)
    # A service or a channel is not a connection: no data quality figures for them.
    assert quality_figures(**NOV, group_by="service").total.pull_runs is None
    assert quality_figures(**NOV, group_by="cnap", channel="online").total.quarantined is None


def test_by_day_fills_empty_days(system):
    appeal(system, days=1, registered=at(2), channel="online")
    appeal(system, days=1, registered=at(2, 23, 30), channel="offline")  # 21:30 UTC, still 2 Nov in Kyiv
    appeal(system, days=1, registered=at(4))

    days = quality_by_day(date_from=datetime.date(2026, 11, 1), date_to=datetime.date(2026, 11, 4))

    assert [(row.key, row.appeals) for row in days] == [
        ("2026-11-01", 0),
        ("2026-11-02", 2),
        ("2026-11-03", 0),
        ("2026-11-04", 1),
    ]
    assert days[1].by_channel["online"] == 1
    assert days[0].by_channel == {"offline": 0, "remote": 0, "online": 0, "mail": 0}


def test_query_count_does_not_grow_with_rows(system, django_assert_max_num_queries):
    other = CnapSystemFactory(cnap=CnapFactory(code="2002"))
    for index in range(30):
        appeal(system if index % 2 else other, days=index % 7 + 1, loyalty=index % 11, rating=index % 5 + 1)
        PullRunFactory(system=system, status="SUCCEEDED", finished_at=at(5))

    with django_assert_max_num_queries(4):
        figures = quality_figures(**NOV, group_by="cnap")
    assert len(figures.rows) == 2
    with django_assert_max_num_queries(1):
        quality_by_day(**NOV)


def test_failing_systems_are_listed(system):
    failing = CnapSystemFactory(cnap=CnapFactory(code="3003"), is_failing=True)
    assert failing_cnap_systems() == [failing]
