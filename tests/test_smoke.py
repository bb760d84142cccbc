import pytest

pytestmark = pytest.mark.django_db


def test_home_page_is_ukrainian_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="uk"' in response.content.decode()


def test_unknown_page_gives_the_portal_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
