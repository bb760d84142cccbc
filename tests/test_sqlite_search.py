import pytest

from ehealth_portal.models import User
from ehealth_portal.sqlite import unicode_like


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("%клініка%", 'КНП "КЛІНІКА ТЕСТ"', True),
        ("%ОБ'ЄДНАННЯ%", "об'єднання", True),
        ("ab_d", "abcd", True),
        ("ab_d", "abd", False),
        (r"100\%%", "100% sure", True),
        (r"100\%%", "1000 sure", False),
    ],
)
def test_unicode_like_matches_like_postgresql_ilike(pattern, value, expected):
    assert unicode_like(pattern, value, "\\") is expected


@pytest.mark.django_db
def test_icontains_ignores_the_case_of_cyrillic_letters():
    User.objects.create_user(email="kovalenko@example.ua", first_name="Олена", last_name="КОВАЛЕНКО")
    assert User.objects.filter(last_name__icontains="коваленко").count() == 1
    assert User.objects.filter(last_name__icontains="петренко").count() == 0
