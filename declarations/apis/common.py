"""What the declarations API modules share: action bodies, throttles with a rate of their own until the
settings name one, and the refusals every facility endpoint documents."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle


class ActionArguments:
    # An action's arguments, not a partial update: drf-spectacular marks a PATCH body partial (every
    # member optional) unless the serializer says otherwise; DRF's views never make it partial.

    @property
    def partial(self):
        return False

    @partial.setter
    def partial(self, value):
        pass


class DefaultRateThrottle(ScopedRateThrottle):
    """A per-caller throttle of the view's `throttle_scope`, at DEFAULT_THROTTLE_RATES[scope] once the
    settings name it and at `default_rate` until then (read on each request, so a test may change it)."""

    default_rate: str

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope, self.default_rate)


def facility_refusals(not_found: str) -> dict:
    """The schema's refusals of an endpoint of the caller's facility."""
    return {
        401: OpenApiResponse(description="No credentials."),
        403: OpenApiResponse(description="No such right in the facility."),
        404: OpenApiResponse(description=not_found),
    }
