import pytest

from .helpers import create_account


@pytest.fixture
def user(db):
    return create_account("doctor@clinic.example")


@pytest.fixture
def operator(db):
    return create_account("operator@ehealth.example", is_staff=True, is_superuser=True)
