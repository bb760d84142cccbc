import pytest

from .helpers import create_account


@pytest.fixture
def user(db):
    return create_account("doctor@clinic.example")


@pytest.fixture
def operator(db):
    """An operator as they work: with an authenticator app (tests.factories.TOTP_SECRET)."""
    return create_account("operator@ehealth.example", is_staff=True, is_superuser=True)


@pytest.fixture
def new_operator(db):
    """An operator account just created, before its owner has enrolled a second factor."""
    return create_account(
        "new-operator@ehealth.example", is_staff=True, is_superuser=True, second_factor=False
    )
