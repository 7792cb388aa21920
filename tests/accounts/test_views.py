import re

import pytest
from django.urls import reverse

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.notifications.models import OutgoingEmail
from crisisnotes.notifications.services import email_send
from tests.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_logged_out_user_is_sent_to_login(client):
    response = client.get(reverse("accounts:user_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_wrong_password_shows_an_error_and_is_audited(client, counselor):
    response = client.post(reverse("login"), {"login": "counselor1", "password": "nope-nope"})
    assert response.status_code == 200
    assert "username and/or password you specified are not correct" in response.content.decode()
    event = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert event.actor_username == "counselor1"


def test_login_is_audited_and_lands_on_the_role_home(client, counselor):
    response = client.post(reverse("login"), {"login": "counselor1", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(response.url).url == reverse("crisis_sessions:my_work")
    assert AuditEvent.objects.filter(action=Action.LOGIN, actor=counselor).count() == 1


@pytest.mark.parametrize(
    ("user_fixture", "home"),
    [
        ("counselor", "crisis_sessions:my_work"),
        ("clinic_admin", "accounts:admin_home"),
    ],
)
def test_home_sends_each_role_to_its_work(client, request, user_fixture, home):
    login(client, request.getfixturevalue(user_fixture))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse(home)
    assert client.get(response.url).status_code == 200


def test_supervisor_only_lands_on_team_page(client, clinic):
    from tests.factories import UserFactory

    boss = UserFactory(clinic=clinic, is_counselor=False, is_supervisor=True)
    login(client, boss)
    assert client.get(reverse("home")).url == reverse("crisis_sessions:dashboard")


def test_counselor_cannot_reach_admin_pages(counselor_client):
    for name in ("accounts:admin_home", "accounts:user_list", "accounts:audit_log"):
        assert counselor_client.get(reverse(name)).status_code == 403


def test_admin_creates_a_user_in_their_own_clinic(admin_client_, clinic, team):
    response = admin_client_.post(
        reverse("accounts:user_create"),
        {
            "username": "newbie",
            "full_name": "Nova Testperson",
            "email": "nova@example.invalid",
            "credential": "LMHC",
            "team": team.pk,
            "is_counselor": "on",
            "is_trainee": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(username="newbie")
    assert user.clinic == clinic and user.is_trainee and user.is_counselor
    assert not user.has_usable_password()
    assert AuditEvent.objects.filter(action=Action.CREATE, object_id=str(user.pk)).exists()


def test_user_without_a_role_is_refused_with_a_message(admin_client_):
    response = admin_client_.post(
        reverse("accounts:user_create"), {"username": "norole", "full_name": "No Role"}
    )
    assert response.status_code == 200
    assert "at least one role" in response.content.decode()
    assert not User.objects.filter(username="norole").exists()


def test_admin_cannot_assign_another_clinics_team(admin_client_, outsider):
    from tests.factories import TeamFactory

    foreign_team = TeamFactory(clinic=outsider.clinic)
    response = admin_client_.post(
        reverse("accounts:user_create"),
        {"username": "x1", "full_name": "X One", "team": foreign_team.pk, "is_counselor": "on"},
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="x1").exists()


def test_deactivated_user_cannot_log_in_and_keeps_their_name(client, admin_client_, counselor):
    response = admin_client_.post(
        reverse("accounts:user_active", args=[counselor.pk]), {"active": "0"}
    )
    assert response.status_code == 302
    counselor.refresh_from_db()
    assert not counselor.is_active and counselor.full_name == "Robin Testcase"
    client.logout()
    response = client.post(reverse("login"), {"login": "counselor1", "password": PASSWORD})
    assert response.status_code == 200  # the form again, not a redirect into the app
    assert "_auth_user_id" not in client.session


def test_users_of_another_clinic_are_404(client, outsider, counselor):
    login(client, outsider)
    for name in ("accounts:user_edit", "accounts:user_active"):
        method = client.post if name.endswith("active") else client.get
        assert method(reverse(name, args=[counselor.pk])).status_code == 404
    assert counselor.full_name not in client.get(reverse("accounts:user_list")).content.decode()


def test_admin_edits_roles_and_the_change_is_audited(admin_client_, counselor, team):
    response = admin_client_.post(
        reverse("accounts:user_edit", args=[counselor.pk]),
        {
            "full_name": "Robin Testcase",
            "email": counselor.email,
            "credential": "LCSW",
            "licence_number": "L-1",
            "team": team.pk,
            "is_counselor": "on",
            "is_supervisor": "on",
        },
    )
    assert response.status_code == 302
    counselor.refresh_from_db()
    assert counselor.is_supervisor and counselor.credential == "LCSW"
    event = AuditEvent.objects.filter(action=Action.UPDATE, object_id=str(counselor.pk)).get()
    assert "credential" in event.summary


def test_forgot_password_on_the_login_page_reaches_the_queued_reset_form(
    client, counselor, django_capture_on_commit_callbacks, mailoutbox
):
    login_page = client.get(reverse("login")).content.decode()
    link = re.search(r'href="([^"]+)">Forgot password\?</a>', login_page)
    assert link is not None
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link.group(1), {"email": counselor.email}, follow=True)
    assert response.status_code == 200
    # Django's stock view would have sent synchronously, with its own text, and queued nothing.
    assert mailoutbox == []
    outgoing = OutgoingEmail.objects.get()
    assert outgoing.recipient == counselor and outgoing.kind == "password_reset"
    assert "is queued" in response.content.decode()
    email_send(email_id=outgoing.pk)
    assert len(mailoutbox) == 1
    # The project's template, not Django's.
    assert "Someone asked to set a new password for your crisisnotes account" in (
        mailoutbox[0].body
    )
    assert "/reset/" in mailoutbox[0].body


def test_djangos_stock_reset_address_is_not_served(client):
    assert client.get("/password_reset/").status_code == 404


def test_a_supervisor_who_also_counsels_starts_on_the_team_page(client, supervisor):
    login(client, supervisor)
    assert client.get(reverse("home")).url == reverse("crisis_sessions:dashboard")


def test_a_refused_page_explains_itself_inside_the_app(counselor_client):
    response = counselor_client.get(reverse("accounts:user_list"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "This page is not part of your role" in page
    assert 'href="/work/"' in page or "Go to your work" in page
    assert "Log out" in page  # the normal navigation, not a bare error page


def test_a_user_added_without_a_password_sets_their_first_one_with_forgot_password(
    client, admin_client_, team, django_capture_on_commit_callbacks, mailoutbox
):
    """What the admin is told after adding a colleague ("They set their password with “Forgot
    password?”") works: the reset e-mail reaches an account that has no password yet, its link
    sets one, and the new colleague signs in with it."""
    admin_client_.post(
        reverse("accounts:user_create"),
        {
            "username": "firstday",
            "full_name": "Fern Firstday",
            "email": "Fern.Firstday@example.invalid",
            "team": team.pk,
            "is_counselor": "on",
        },
    )
    newcomer = User.objects.get(username="firstday")
    assert not newcomer.has_usable_password()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": "fern.firstday@example.invalid"})
    outgoing = OutgoingEmail.objects.get(kind="password_reset")
    assert outgoing.recipient == newcomer
    email_send(email_id=outgoing.pk)
    link = re.search(r"https?://[^/\s]+(/reset/\S+)", mailoutbox[-1].body)
    assert link is not None, mailoutbox[-1].body
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200 and "new_password1" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {
            "new_password1": "a-Long-first-passphrase-42",
            "new_password2": "a-Long-first-passphrase-42",
        },
    )
    assert done.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.check_password("a-Long-first-passphrase-42")


def test_forgot_password_still_skips_a_deactivated_account(
    client, counselor, django_capture_on_commit_callbacks
):
    counselor.is_active = False
    counselor.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": counselor.email})
    assert not OutgoingEmail.objects.exists()
