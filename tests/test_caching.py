"""Versioned caches: built once per version, replaced by any write, read from the database when the cache is down."""

import pytest
from django.core.cache import caches

from ehealth_portal.caching import DataVersion, local_caches_clear

pytestmark = pytest.mark.django_db


def test_a_value_is_built_once_per_version_and_again_after_a_bump():
    version, builds = DataVersion("test-data"), []

    def build():
        builds.append(1)
        return f"built {len(builds)}".encode()

    assert version.shared("thing", build) == b"built 1"
    assert version.memo("table", build) == b"built 2"
    assert version.shared("thing", build) == b"built 1" and version.memo("table", build) == b"built 2"
    version.bump()
    assert version.shared("thing", build) == b"built 3"
    assert version.memo("table", build) == b"built 4"


def test_another_process_sees_a_bump_within_its_local_seconds(settings):
    version = DataVersion("test-data", local_seconds=0)  # no local grace: every read asks the cache
    first = version.current()
    caches["default"].set(version.key, "from-another-process", timeout=None)
    assert version.current() == "from-another-process" != first


def test_a_bump_in_a_transaction_is_replaced_again_once_at_commit(django_capture_on_commit_callbacks):
    version = DataVersion("test-data")
    with django_capture_on_commit_callbacks() as callbacks:
        version.bump()
        version.bump()
    assert len(callbacks) == 1


def test_with_the_cache_down_values_are_built_every_time(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6390/0",
        }
    }
    local_caches_clear()
    version, builds = DataVersion("test-data"), []

    def build():
        builds.append(1)
        return b"fresh"

    assert version.current() is None
    assert version.shared("thing", build) == b"fresh" and version.memo("table", build) == b"fresh"
    assert version.shared("thing", build) == b"fresh"
    assert len(builds) == 3
    version.bump()  # logged, not raised
