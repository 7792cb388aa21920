import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_repeated_wrong_passwords_lock_the_login_even_with_the_right_one(
    client, counselor, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "counselor1", "password": "wrong-guess"})
    response = client.post(reverse("login"), {"username": "counselor1", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_another_user_is_not_locked_by_someone_elses_failures(
    client, counselor, teammate, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "counselor1", "password": "wrong-guess"})
    response = client.post(reverse("login"), {"username": "teammate1", "password": PASSWORD})
    assert response.status_code == 302
