"""The lists operators read most fit a 1280 px window beside the menu and the filters, long names and
all (chromium)."""

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import CnapFactory, CnapSystemFactory, PullRunFactory, SuperuserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_NAME = "ЦНАП виконавчого комітету Дарницької районної в місті Києві державної адміністрації"


@pytest.mark.parametrize("url", ["/admin/monitoring/cnapsystem/", "/admin/monitoring/pullrun/"])
def test_the_monitoring_lists_fit_1280_px(page, live_server, url):
    for code in ("1001", "1002"):
        system = CnapSystemFactory(
            cnap=CnapFactory(code=code, name=LONG_NAME, region="Дніпропетровська область"),
            name="Інформаційна система «Вулик» управління адміністративних послуг",
            base_url=f"https://cnap-darnytsia.example.gov.ua/api/v2/administrative-service-centres/{code}/appeals/",
            consecutive_failures=12,
            is_failing=True,
        )
        PullRunFactory(system=system, status="FAILED", error_code="foreign_next_page")
    client = Client()
    client.force_login(SuperuserFactory())
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.session.session_key, "url": live_server.url}]
    )
    page.goto(url)
    page.locator("#result_list").wait_for()
    assert page.viewport_size["width"] == 1280
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.querySelector('#result_list').scrollWidth,"
        " document.querySelector('#changelist .results').clientWidth]"
    )
    assert widths[0] <= 1280, widths  # no horizontal scrolling of the page
    assert widths[1] <= widths[2], widths  # nor of the list, cut off beside its filters
