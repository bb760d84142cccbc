"""factory_boy factories shared by the test suite (one section per app)."""

import datetime

import factory
from django.contrib.auth import get_user_model

from registry.models import Dictionary, DictionaryValue, GlobalParameter

# --- Accounts -------------------------------------------------------------------------------------


# Every staff account the factories make has an authenticator app with this secret (the portal lets
# operators in only with a second factor); tests compute its current code with tests.accounts.helpers.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def second_factor_enrol(user, secret: str = TOTP_SECRET):
    """An authenticator app (TOTP) with `secret` and recovery codes, as allauth's enrolment leaves them."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return user


class UserFactory(factory.django.DjangoModelFactory):
    """A user; a staff one also gets a second factor (TOTP_SECRET) unless `second_factor=False`."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.django.Password("correct-horse-battery-staple")

    @factory.post_generation
    def second_factor(user, create, extracted, **kwargs):
        from allauth.mfa.models import Authenticator

        staff = user.is_staff or user.is_superuser
        if (
            create
            and staff
            and extracted is not False
            and not Authenticator.objects.filter(user=user).exists()
        ):
            second_factor_enrol(user)


class SuperuserFactory(UserFactory):
    is_staff = True
    is_superuser = True


# --- Registry: reference data ---------------------------------------------------------------------


class DictionaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dictionary
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"TEST_DICTIONARY_{n}")
    labels = factory.LazyFunction(lambda: ["SYSTEM", "EXTERNAL"])
    is_active = True


class DictionaryValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DictionaryValue

    dictionary = factory.SubFactory(DictionaryFactory)
    key = factory.Sequence(lambda n: f"KEY_{n}")
    label = factory.Sequence(lambda n: f"Значення {n}")
    position = factory.Sequence(lambda n: n)
    is_active = True


class GlobalParameterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GlobalParameter
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"test_parameter_{n}")
    value = "1"
    description = ""


# --- Registry: state register, facilities and people ----------------------------------------------


def _edr_name_key(record) -> str:
    from registry.edr import name_key  # the register's own normalisation

    return name_key(record.name)


class EdrRecordFactory(factory.django.DjangoModelFactory):
    """A state-register record; registered (зареєстровано) unless told otherwise."""

    class Meta:
        model = "registry.EdrRecord"

    record_key = factory.Sequence(lambda n: f"test-{n:08d}")
    kind = "UO"
    code = factory.Sequence(lambda n: f"{n:08d}")
    name = factory.Sequence(lambda n: f"ТОВАРИСТВО З ОБМЕЖЕНОЮ ВІДПОВІДАЛЬНІСТЮ «КЛІНІКА {n}»")
    short_name = ""
    name_key = factory.LazyAttribute(_edr_name_key)
    state = "зареєстровано"
    is_registered = factory.LazyAttribute(lambda record: record.state == "зареєстровано")
    heads = factory.LazyFunction(list)
    kveds = factory.LazyFunction(list)
    content_hash = factory.Sequence(lambda n: f"{n:064x}")


class LegalEntityFactory(factory.django.DjangoModelFactory):
    """An active facility as the registration leaves it (not NHS-verified)."""

    class Meta:
        model = "registry.LegalEntity"

    edrpou = factory.Sequence(lambda n: f"{38000000 + n}")
    name = factory.Sequence(lambda n: f"ТОВАРИСТВО З ОБМЕЖЕНОЮ ВІДПОВІДАЛЬНІСТЮ «КЛІНІКА {n}»")
    short_name = factory.Sequence(lambda n: f"ТОВ «КЛІНІКА {n}»")
    legal_form = "240"
    owner_property_type = "PRIVATE"
    kveds = factory.LazyFunction(lambda: ["86.21"])
    email = "info@clinic.example"
    phones = factory.LazyFunction(lambda: [{"type": "MOBILE", "number": "+380501234567"}])
    addresses = factory.LazyFunction(
        lambda: [{"type": "REGISTRATION", "country": "UA", "area": "М.КИЇВ", "settlement": "Київ"}]
    )


class DivisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "registry.Division"

    legal_entity = factory.SubFactory(LegalEntityFactory)
    name = factory.Sequence(lambda n: f"Амбулаторія {n}")
    email = "ambulatory@clinic.example"
    latitude = 50.45
    longitude = 30.52


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "registry.Party"

    last_name = "Коваленко"
    first_name = "Олена"
    second_name = "Петрівна"
    birth_date = datetime.date(1980, 5, 17)
    gender = "FEMALE"
    tax_id = factory.Sequence(lambda n: f"{3185409128 + n}")


class EmployeeFactory(factory.django.DjangoModelFactory):
    """The head of a facility (an OWNER employee)."""

    class Meta:
        model = "registry.Employee"

    legal_entity = factory.SubFactory(LegalEntityFactory)
    party = factory.SubFactory(PartyFactory)
    employee_type = "OWNER"
    position = "P2"
    start_date = datetime.date(2026, 11, 1)


class EmployeeRequestFactory(factory.django.DjangoModelFactory):
    """An invitation waiting for confirmation; its link's token is not kept (only a hash is stored)."""

    class Meta:
        model = "registry.EmployeeRequest"

    legal_entity = factory.SubFactory(LegalEntityFactory)
    employee_type = "OWNER"
    position = "P2"
    email = factory.Sequence(lambda n: f"head{n}@clinic.example")
    data = factory.LazyFunction(lambda: {"last_name": "Коваленко", "first_name": "Олена"})
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(lambda: datetime.datetime(2026, 12, 31, tzinfo=datetime.UTC))


class RegistrationApplicationFactory(factory.django.DjangoModelFactory):
    """A web application waiting for an operator (a sole proprietor the register could not identify)."""

    class Meta:
        model = "registry.RegistrationApplication"

    status = "WAITING_OPERATOR"
    status_token_hash = factory.Sequence(lambda n: f"{n:064x}")
    edrpou = factory.Sequence(lambda n: f"{2904501273 + n}")
    name = "ФОП Шевчук Андрій Іванович"
    email = factory.Sequence(lambda n: f"head{n}@clinic.example")
    data = factory.LazyFunction(dict)
    signed_envelope = b"test evidence"
    signed_content = b"{}"


class ApplicationCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "registry.ApplicationCheck"

    application = factory.SubFactory(RegistrationApplicationFactory)
    step = "SIGNATURE"
    outcome = "PASSED"


# --- Monitoring: registers, connected CNAP systems, appeals ---------------------------------------


class AdministrativeServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "monitoring.AdministrativeService"
        django_get_or_create = ["identifier"]

    identifier = factory.Sequence(lambda n: f"{n + 1:05d}")
    name = factory.Sequence(lambda n: f"Адміністративна послуга {n}")
    owner_name = "Міністерство цифрової трансформації України"


class ServiceVariationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "monitoring.ServiceVariation"
        django_get_or_create = ["service", "identifier"]

    service = factory.SubFactory(AdministrativeServiceFactory)
    identifier = "1"
    legal_term_days = 10
    legal_term_working_days = False
    legal_term_text = "10 календарних днів"


class CnapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "monitoring.Cnap"
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: str(50000 + n))  # far from the codes tests choose ("1001")
    name = factory.Sequence(lambda n: f"ЦНАП №{n}")
    region = "Київська область"
    state = "Діючий"


class JoiningApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "monitoring.JoiningApplication"

    cnap = factory.SubFactory(CnapFactory)
    organisation_edrpou = "38782323"
    contact_email = factory.Sequence(lambda n: f"cnap{n}@example.gov.ua")
    proposed_base_url = "http://127.0.0.1:8765/asc/1000/appeals/"
    signed_content = "Заява про приєднання"
    signature = b"test evidence"
    signer_name = "Коваленко Олена Петрівна"
    signer_drfo = "3185409128"
    signer_edrpou = "38782323"


class CnapSystemFactory(factory.django.DjangoModelFactory):
    """A connected system; `password` is stored encrypted, like the admin does it."""

    class Meta:
        model = "monitoring.CnapSystem"
        skip_postgeneration_save = True

    cnap = factory.SubFactory(CnapFactory)
    application = factory.SubFactory(JoiningApplicationFactory, cnap=factory.SelfAttribute("..cnap"))
    name = "Вулик"
    base_url = factory.LazyAttribute(lambda o: f"http://127.0.0.1:8765/asc/{o.cnap.code}/appeals/")
    login = "erepository"
    password = "pa$$word"


class PullRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "monitoring.PullRun"

    system = factory.SubFactory(CnapSystemFactory)
    trigger = "SCHEDULE"
    window_start = factory.LazyFunction(lambda: datetime.date(2026, 11, 1))
    window_end = factory.LazyFunction(lambda: datetime.date(2026, 11, 7))


class AppealFactory(factory.django.DjangoModelFactory):
    """A closed, on-time, positive appeal taken in person, unless told otherwise."""

    class Meta:
        model = "monitoring.Appeal"

    system = factory.SubFactory(CnapSystemFactory)
    cnap = factory.SelfAttribute("system.cnap")
    appeal_id = factory.Sequence(lambda n: f"A-{n:07d}")
    service = factory.SubFactory(AdministrativeServiceFactory)
    channel = "offline"
    applicant_type = "individual"
    status = "issued"
    result = "positive"
    registered_at = factory.LazyFunction(lambda: datetime.datetime(2026, 11, 2, 10, 0, tzinfo=datetime.UTC))
    decided_at = factory.LazyAttribute(lambda o: o.registered_at + datetime.timedelta(days=3))
    issued_at = factory.LazyAttribute(lambda o: o.decided_at + datetime.timedelta(hours=20))
    deadline_at = factory.LazyAttribute(lambda o: o.registered_at + datetime.timedelta(days=10))
    processing_seconds = factory.LazyAttribute(
        lambda o: int((o.decided_at - o.registered_at).total_seconds()) if o.decided_at else None
    )
    source_updated_at = factory.LazyAttribute(lambda o: o.issued_at or o.decided_at or o.registered_at)


class QuarantinedRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "monitoring.QuarantinedRecord"

    system = factory.SubFactory(CnapSystemFactory)
    record_key = factory.Sequence(lambda n: f"Q-{n:07d}")
    appeal_id = factory.SelfAttribute("record_key")
    record = factory.LazyAttribute(lambda o: {"appeal_id": o.record_key, "channel": "телепатія"})
    reasons = factory.LazyFunction(
        lambda: [{"path": "channel", "code": "invalid_choice", "message": "Невідомий канал звернення."}]
    )


# --- Project: the outbox -----------------------------------------------------------------------------


class EmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "portal.Email"

    to = factory.Sequence(lambda n: f"user{n}@example.com")
    subject = "Вашу заяву отримано"
    text_body = "Заяву зареєстровано."
