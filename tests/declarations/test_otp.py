"""The patient's SMS code (declarations.services.otp): 4 digits, stored only as a keyed hash, valid 15 minutes,
3 attempts, a new code cancels the old one, at most 5 codes an hour to a phone; the text of the SMS."""

import re
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from declarations.models import SmsMessage, Verification, VerifiedPhone
from declarations.services import otp

pytestmark = pytest.mark.django_db

PHONE = "+380501234567"
OTHER_PHONE = "+380671112233"


class Clock:
    """`django.utils.timezone.now` made settable: what the services and `auto_now_add` read."""

    def __init__(self):
        self.now = timezone.now()

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


def code_sent(phone_number: str = PHONE) -> str:
    """The code of the latest SMS to the phone, as the patient reads it."""
    body = SmsMessage.objects.filter(phone_number=phone_number).latest("created_at").body
    return re.search(r"(\d{4})$", body).group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10000:04d}"


def refusal(call) -> tuple[str, str]:
    """(path, code) of the ValidationError `call()` raises."""
    with pytest.raises(ValidationError) as caught:
        call()
    [(path, [error])] = caught.value.error_dict.items()
    return path, error.code


def complete(code: str, phone_number: str = PHONE):
    return lambda: otp.verification_complete(phone_number=phone_number, code=code)


def state(verification: Verification) -> tuple[str, int]:
    verification.refresh_from_db()
    return verification.status, verification.attempts


# --- The code -----------------------------------------------------------------------------------------


def test_a_code_is_4_digits_sent_by_sms_and_never_stored(settings):
    settings.SECRET_KEY_FALLBACKS = []
    verification = otp.verification_start(phone_number=PHONE)

    [sms] = SmsMessage.objects.all()
    assert sms.phone_number == PHONE
    assert re.fullmatch(r"Код авторизації дій в системі eHealth: \d{4}", sms.body), sms.body
    code = code_sent()
    stored = Verification.objects.get()
    assert stored.status == Verification.Status.NEW and stored.attempts == 0
    # Not the code, nor its plain hash: an HMAC keyed with SECRET_KEY, bound to the verification.
    assert code not in stored.code_hash
    assert len(stored.code_hash) == 64 and re.fullmatch(r"[0-9a-f]{64}", stored.code_hash)
    other = otp.verification_start(phone_number=OTHER_PHONE)
    assert stored.code_hash == otp._code_hash(verification.pk, code)
    assert stored.code_hash != otp._code_hash(other.pk, code)  # the same code hashes differently elsewhere


def test_codes_are_random_and_keep_leading_zeros():
    codes = {otp._code_new() for _ in range(300)}
    assert all(re.fullmatch(r"\d{4}", code) for code in codes)
    assert len(codes) > 250  # 300 draws from 10,000: a handful of repeats at most
    assert any(code.startswith("0") for code in codes)


def test_the_hash_depends_on_the_secret_key_and_a_rotated_key_still_accepts_a_sent_code(settings):
    otp.verification_start(phone_number=PHONE)
    code = code_sent()
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "another-secret-key-0123456789-abcdefghijklmnop", []
    verification = Verification.objects.get()
    assert refusal(complete(code)) == ("code", "code_invalid")  # unknown key: the stored hash matches nothing
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert otp.verification_complete(phone_number=PHONE, code=code).status == Verification.Status.VERIFIED
    assert state(verification) == (Verification.Status.VERIFIED, 1)


def test_the_sms_is_ukrainian_whatever_the_callers_language():
    from django.utils import translation

    with translation.override("en"):
        otp.verification_start(phone_number=PHONE)
    assert SmsMessage.objects.get().body.startswith("Код авторизації дій в системі eHealth: ")


def test_a_malformed_phone_is_refused_and_nothing_is_sent():
    assert refusal(lambda: otp.verification_start(phone_number="0501234567")) == (
        "phone_number",
        "phone_format",
    )
    assert (Verification.objects.count(), SmsMessage.objects.count()) == (0, 0)


# --- Completing -------------------------------------------------------------------------------------------


def test_the_right_code_verifies_the_phone():
    verification = otp.verification_start(phone_number=PHONE)
    assert not otp.phone_is_verified(PHONE)

    done = otp.verification_complete(phone_number=PHONE, code=code_sent())

    assert done.pk == verification.pk
    assert state(verification) == (Verification.Status.VERIFIED, 0)
    assert verification.verified_at is not None
    assert otp.phone_is_verified(PHONE)
    assert VerifiedPhone.objects.get().phone_number == PHONE
    assert not otp.phone_is_verified(OTHER_PHONE)
    # Used once: the same code again finds nothing to complete.
    assert refusal(complete(code_sent())) == ("code", "no_active_code")


def test_verifying_again_later_keeps_one_verified_phone_with_the_latest_time(clock):
    otp.verification_start(phone_number=PHONE)
    otp.verification_complete(phone_number=PHONE, code=code_sent())
    first = VerifiedPhone.objects.get().verified_at
    clock.advance(days=30)
    otp.verification_start(phone_number=PHONE)
    otp.verification_complete(phone_number=PHONE, code=code_sent())
    assert VerifiedPhone.objects.get().verified_at == first + timedelta(days=30)


def test_three_wrong_codes_void_the_code_even_for_the_right_one_later():
    verification = otp.verification_start(phone_number=PHONE)
    code = code_sent()

    assert refusal(complete(wrong(code))) == ("code", "code_invalid")
    assert state(verification) == (Verification.Status.NEW, 1)
    assert refusal(complete("abcd")) == ("code", "code_invalid")
    assert state(verification) == (Verification.Status.NEW, 2)
    assert refusal(complete(wrong(code))) == ("code", "attempts_exceeded")
    assert state(verification) == (Verification.Status.UNVERIFIED, 3)

    assert refusal(complete(code)) == ("code", "attempts_exceeded")
    assert state(verification) == (Verification.Status.UNVERIFIED, 3)
    assert not otp.phone_is_verified(PHONE)


def test_two_wrong_codes_then_the_right_one_verifies():
    verification = otp.verification_start(phone_number=PHONE)
    code = code_sent()
    for _ in range(2):
        refusal(complete(wrong(code)))
    otp.verification_complete(phone_number=PHONE, code=code)
    assert state(verification) == (Verification.Status.VERIFIED, 2)


def test_a_code_is_valid_15_minutes(clock):
    verification = otp.verification_start(phone_number=PHONE)
    code = code_sent()
    assert verification.code_expired_at == clock.now + timedelta(minutes=15)

    clock.advance(minutes=14, seconds=59)
    assert otp.verification_complete(phone_number=PHONE, code=code).status == Verification.Status.VERIFIED


def test_a_code_used_after_15_minutes_is_expired_even_when_right(clock):
    verification = otp.verification_start(phone_number=PHONE)
    code = code_sent()
    clock.advance(minutes=15)

    assert refusal(complete(code)) == ("code", "code_expired")
    assert state(verification) == (Verification.Status.EXPIRED, 0)
    assert refusal(complete(code)) == ("code", "code_expired")  # and stays so
    assert not otp.phone_is_verified(PHONE)


def test_no_code_sent_is_its_own_refusal():
    assert refusal(complete("1234")) == ("code", "no_active_code")
    assert Verification.objects.count() == 0


# --- A new code ---------------------------------------------------------------------------------------


def test_a_new_code_cancels_the_active_one():
    first = otp.verification_start(phone_number=PHONE)
    first_code = code_sent()
    other_phone = otp.verification_start(phone_number=OTHER_PHONE)

    second = otp.verification_start(phone_number=PHONE)
    second_code = code_sent()

    assert state(first) == (Verification.Status.CANCELED, 0)
    assert state(other_phone) == (Verification.Status.NEW, 0)  # another phone's code is not touched
    if first_code != second_code:
        assert refusal(complete(first_code)) == ("code", "code_invalid")
    otp.verification_complete(phone_number=PHONE, code=second_code)
    assert state(second)[0] == Verification.Status.VERIFIED
    assert state(first)[0] == Verification.Status.CANCELED


def test_a_new_code_after_three_wrong_tries_works():
    otp.verification_start(phone_number=PHONE)
    for _ in range(3):
        refusal(complete(wrong(code_sent())))
    otp.verification_start(phone_number=PHONE)
    assert (
        otp.verification_complete(phone_number=PHONE, code=code_sent()).status == Verification.Status.VERIFIED
    )


def test_at_most_five_codes_an_hour_to_a_phone(clock):
    first = otp.verification_start(phone_number=PHONE)
    for _ in range(4):
        clock.advance(minutes=1)
        otp.verification_start(phone_number=PHONE)
    clock.advance(minutes=1)

    with pytest.raises(ValidationError) as caught:
        otp.verification_start(phone_number=PHONE)
    [error] = caught.value.error_dict["phone_number"]
    assert error.code == "too_many_codes"
    assert error.params["retry_after"] == 55 * 60  # the first code leaves the hour in 55 minutes
    assert "55" in caught.value.messages[0]
    # The refused start changed nothing: the active code stays, no SMS went.
    assert Verification.objects.count() == 5 and SmsMessage.objects.count() == 5
    assert Verification.objects.filter(status=Verification.Status.NEW).count() == 1
    # Another phone is not limited by this one.
    otp.verification_start(phone_number=OTHER_PHONE)

    clock.advance(minutes=55)  # the first code is now an hour old
    otp.verification_start(phone_number=PHONE)
    assert first.created_at == clock.now - timedelta(hours=1)
    with pytest.raises(ValidationError):
        otp.verification_start(phone_number=PHONE)


# --- Races (PostgreSQL, real concurrent connections) ----------------------------------------------------


def _in_threads(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = work()
        except ValidationError as error:
            [(_path, [item])] = error.error_dict.items()
            results[index] = item.code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL=postgres://... (real concurrent transactions)")


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_codes_are_all_counted(postgresql):
    verification = otp.verification_start(phone_number=PHONE)
    code = code_sent()

    results = _in_threads(8, lambda: otp.verification_complete(phone_number=PHONE, code=wrong(code)))

    assert sorted(results) == ["attempts_exceeded"] * 6 + ["code_invalid"] * 2
    assert state(verification) == (Verification.Status.UNVERIFIED, 3)


@pytest.mark.django_db(transaction=True)
def test_parallel_starts_leave_one_active_code_and_respect_the_hourly_limit(postgresql):
    results = _in_threads(8, lambda: otp.verification_start(phone_number=PHONE).pk)

    assert sum(result == "too_many_codes" for result in results) == 3
    assert Verification.objects.count() == 5
    assert Verification.objects.filter(status=Verification.Status.NEW).count() == 1
