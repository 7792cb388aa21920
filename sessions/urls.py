"""URLs of the sessions app: each area's views module owns its own `urlpatterns`."""

from sessions.views import (
    clients,
    exports,
    fhir,
    followups,
    notes,
    resources,
    review,
    snippets,
    supervision,
    work,
)

app_name = "crisis_sessions"
urlpatterns = [
    *work.urlpatterns,
    *clients.urlpatterns,
    *notes.urlpatterns,
    *review.urlpatterns,
    *supervision.urlpatterns,
    *followups.urlpatterns,
    *exports.urlpatterns,
    *resources.urlpatterns,
    *fhir.urlpatterns,
    *snippets.urlpatterns,
]
