"""Export views: the Export PDF button, the admin's bulk page (403 for others), the job page and
its polling partial, and downloads (clinic- and role-checked, audited, expiring)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from crisisnotes.audit.models import Action, AuditEvent
from sessions.models import ExportJob
from sessions.services.exports import export_job_run
from tests.conftest import login
from tests.factories import CrisisSessionFactory, NoteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"


def test_signed_note_page_has_the_export_button_and_a_draft_has_none(counselor_client, counselor):
    signed = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    assert "Export PDF" in counselor_client.get(signed.get_absolute_url()).content.decode()
    draft = NoteFactory.create(author=counselor)
    assert "Export PDF" not in counselor_client.get(draft.get_absolute_url()).content.decode()


def test_export_button_queues_a_job_and_shows_its_progress(counselor_client, counselor):
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    response = counselor_client.post(reverse("crisis_sessions:note_export", args=[note.pk]))
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("crisis_sessions:export_detail", args=[job.pk])
    assert AuditEvent.objects.filter(action=Action.EXPORT, actor=counselor).exists()
    page = counselor_client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page and "0 %" in page
    export_job_run(job_id=job.pk)
    partial = counselor_client.get(
        reverse("crisis_sessions:export_progress", args=[job.pk])
    ).content.decode()
    assert "100 %" in partial and "hx-trigger" not in partial and "Download PDF" in partial


def test_draft_export_is_refused(counselor_client, counselor):
    draft = CrisisSessionFactory(clinic=counselor.clinic, author=counselor)
    counselor_client.post(reverse("crisis_sessions:note_export", args=[draft.pk]))
    assert not ExportJob.objects.exists()


def test_counselor_cannot_reach_the_admin_export_page(counselor_client):
    assert counselor_client.get(reverse("crisis_sessions:export_list")).status_code == 403
    assert counselor_client.post(reverse("crisis_sessions:export_list")).status_code == 403


def test_admin_starts_a_bulk_export_with_filters(admin_client_, counselor, clinic_admin):
    notes = [
        NoteFactory.create(
            signed=True, author=counselor, screen_risk="moderate", clinician_risk="moderate"
        )
        for _ in range(2)
    ]
    NoteFactory.create(signed=True, author=counselor, screen_risk="low", clinician_risk="low")
    page = admin_client_.get(reverse("crisis_sessions:export_list"))
    assert page.status_code == 200 and "Start export" in page.content.decode()
    response = admin_client_.post(
        reverse("crisis_sessions:export_list"),
        {"risk_level": "moderate", "counselor": counselor.pk},
    )
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert sorted(job.record_ids) == sorted(n.pk for n in notes)
    assert AuditEvent.objects.filter(action=Action.EXPORT, actor=clinic_admin).exists()
    detail = admin_client_.get(reverse("crisis_sessions:export_detail", args=[job.pk]))
    text = detail.content.decode()
    assert f"Counselor: {counselor.display_name}" in text
    assert "Risk level: Moderate" in text
    assert "counselor_id" not in text


def test_bulk_export_with_nothing_to_export_says_so(admin_client_):
    response = admin_client_.post(reverse("crisis_sessions:export_list"), {"risk_level": "high"})
    assert response.status_code == 200
    assert "No signed records match" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_download_is_audited_and_checked(client, counselor, teammate, clinic_admin, outsider):
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    login(client, counselor)
    client.post(reverse("crisis_sessions:note_export", args=[note.pk]))
    job = export_job_run(job_id=ExportJob.objects.get().pk)
    url = reverse("crisis_sessions:export_download", args=[job.pk])

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]
    assert (
        AuditEvent.objects.filter(
            action=Action.DOWNLOAD, object_type="crisis_sessions.exportjob", object_id=str(job.pk)
        ).count()
        == 1
    )

    # The clinic admin may download it too; a colleague's job is not a counselor's to fetch.
    assert login(client, clinic_admin).get(url).status_code == 200
    assert login(client, teammate).get(url).status_code == 404
    # Another clinic's file: 404, even for their admin.
    assert login(client, outsider).get(url).status_code == 404
    assert (
        AuditEvent.objects.filter(
            action=Action.DOWNLOAD, object_type="crisis_sessions.exportjob", object_id=str(job.pk)
        ).count()
        == 2
    )


def test_expired_link_is_gone(client, counselor, clinic):
    clinic.export_link_hours = 1  # shorter than the login session, which time travel would end
    clinic.idle_timeout_minutes = 120  # ...and than the idle logoff
    clinic.save()
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    login(client, counselor)
    client.post(reverse("crisis_sessions:note_export", args=[note.pk]))
    job = export_job_run(job_id=ExportJob.objects.get().pk)
    assert job.finished_at is not None
    later = job.finished_at + timedelta(hours=clinic.export_link_hours, minutes=1)
    with time_machine.travel(later):
        response = client.get(reverse("crisis_sessions:export_download", args=[job.pk]))
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.DOWNLOAD).exists()


def test_export_files_are_not_under_a_public_url(settings):
    private = str(settings.PRIVATE_STORAGE_DIR)
    assert not private.startswith(str(settings.STATIC_ROOT))
    assert all(not private.startswith(str(d)) for d in settings.STATICFILES_DIRS)


def test_admin_home_links_to_exports(admin_client_):
    body = admin_client_.get(reverse("accounts:admin_home")).content.decode()
    assert reverse("crisis_sessions:export_list") in body


def test_a_job_nothing_moves_on_says_waiting_for_a_worker_without_an_animated_bar(
    admin_client_, counselor, clinic_admin
):
    from django.utils import timezone

    from sessions.models.exports import WAITING_AFTER
    from sessions.services.exports import export_bulk_request

    NoteFactory.create(signed=True, high_risk=True, author=counselor)
    job = export_bulk_request(actor=clinic_admin)
    url = reverse("crisis_sessions:export_progress", args=[job.pk])
    fresh = admin_client_.get(url).content.decode()
    assert "progress-bar-animated" in fresh and "Waiting for a worker" not in fresh
    with time_machine.travel(timezone.now() + WAITING_AFTER + timedelta(seconds=1)):
        stalled = admin_client_.get(url).content.decode()
        assert "Waiting for a worker" in stalled
        assert "progress-bar-animated" not in stalled
        assert 'hx-trigger="every 1s"' in stalled  # still polling: it resumes by itself
        # A worker reports progress: the bar moves again.
        ExportJob.objects.filter(pk=job.pk).update(progressed_at=timezone.now())
        moving = admin_client_.get(url).content.decode()
        assert "progress-bar-animated" in moving and "Waiting for a worker" not in moving
