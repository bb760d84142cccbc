"""The header in chromium: one row of links on a 1280 px screen, a menu button on a phone (and the
links without JavaScript), and a focus indicator that stands out on white and on the header's blue."""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.factories import SuperuserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
MENU_BUTTON = "button.nav-toggle[aria-controls=site-menu]"
# The development outbox link exists only with DEBUG (not in tests): added to the page as it would be.
ADD_OUTBOX_LINK = """() => {
  const item = document.createElement("li");
  item.innerHTML = '<a href="/dev/outbox/">Вихідні листи</a>';
  document.querySelector(".nav .nav-links").appendChild(item);
}"""
MIDDLES = "items => items.map(item => { const box = item.getBoundingClientRect(); return box.top + box.height / 2; })"


def one_row(middles: list[float]) -> bool:
    """Items centred on one line (a wrapped item sits a whole line lower)."""
    return max(middles) - min(middles) < 4


def sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.session.session_key, "url": live_server.url}]
    )


@pytest.mark.parametrize("operator", [False, True], ids=["visitor", "operator"])
def test_at_1280_px_the_links_fit_one_row(page, live_server, operator, screenshot):
    if operator:  # the most links: CNAP monitoring, and the administration in the account band
        sign_in(page, live_server, SuperuserFactory(email="operator@ehealth.example"))
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/")
    page.evaluate(ADD_OUTBOX_LINK)

    expect(page.locator(MENU_BUTTON)).to_be_hidden()
    links = page.locator(".nav .nav-links > li")
    expect(links.first).to_be_visible()
    assert one_row(links.evaluate_all(MIDDLES)), "the main links wrap"
    tools = page.locator(".site-tools .nav-links > li, .site-tools .lang")
    assert one_row(tools.evaluate_all(MIDDLES)), "the account band wraps"
    if operator:
        expect(page.get_by_role("link", name="Моніторинг ЦНАП")).to_be_visible()
        expect(page.get_by_role("link", name="Адміністрування")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(f"header-1280-{'operator' if operator else 'visitor'}")


def test_on_a_phone_a_menu_button_shows_and_hides_the_links(page, live_server, screenshot):
    sign_in(page, live_server, SuperuserFactory(email="operator@ehealth.example"))
    page.set_viewport_size(PHONE)
    page.goto("/")
    button = page.locator(MENU_BUTTON)
    facilities = page.get_by_role("link", name="Заклади", exact=True)

    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(facilities).to_be_hidden()
    expect(page.get_by_role("button", name="Вийти")).to_be_hidden()
    header_height = page.locator(".site-header").bounding_box()["height"]
    assert header_height <= PHONE["height"] / 12, f"the closed header takes {header_height} px"
    screenshot("header-phone-closed")

    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    for name in ("Заклади", "Мапа", "Зареєструвати заклад", "Адміністрування", "Змінити пароль"):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Вийти")).to_be_visible()
    expect(page.get_by_label("Мова")).to_be_visible()
    screenshot("header-phone-open")

    # From the keyboard: Escape in the menu closes it and leaves the focus on the button; Enter opens it.
    facilities.focus()
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    expect(facilities).to_be_hidden()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(facilities).to_be_focused()

    facilities.click()
    expect(page).to_have_url(re.compile(r"/facilities/$"))
    expect(button).to_have_attribute("aria-expanded", "false")  # a new page starts closed


def test_without_javascript_the_links_stay_in_view_on_a_phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="uk-UA", viewport=PHONE, java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto("/")
        expect(page.locator(MENU_BUTTON)).to_be_hidden()
        for name in ("Заклади", "Мапа", "Зареєструвати заклад", "Перевірити підпис", "Увійти"):
            expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
        expect(page.get_by_label("Мова")).to_be_visible()
    finally:
        context.close()


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _colours(css: str) -> list[tuple[int, int, int]]:
    return [tuple(int(part) for part in match) for match in re.findall(r"rgb\((\d+), (\d+), (\d+)\)", css)]


FOCUS_STYLE = """element => {
  const style = getComputedStyle(element);
  return {outline: style.outlineStyle + " " + style.outlineWidth + " " + style.outlineColor,
          shadow: style.boxShadow};
}"""


def test_the_focus_indicator_stands_out_on_white_and_on_the_header(page):
    """WCAG 1.4.11: 3:1 against what is next to it. A yellow ring alone is 1.64:1 on white."""
    white, header_blue = (255, 255, 255), (0x0B, 0x3D, 0x6E)
    page.goto("/")
    seen = {}
    for name, element, background in (
        ("brand", page.locator(".brand"), header_blue),
        ("content link", page.locator("main a").first, white),
    ):
        element.focus()
        page.keyboard.press("Shift+Tab")  # focus moves by keyboard, so :focus-visible applies
        page.keyboard.press("Tab")
        expect(element).to_be_focused()
        style = element.evaluate(FOCUS_STYLE)
        assert style["outline"].startswith("solid 3px"), (name, style)
        rings = _colours(style["outline"]) + _colours(style["shadow"])
        assert len(rings) == 2, (name, style)
        seen[name] = max(contrast(ring, background) for ring in rings)
    assert all(ratio >= 3 for ratio in seen.values()), seen
