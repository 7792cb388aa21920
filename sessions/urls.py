"""URLs of the sessions app: each area's views module owns its own `urlpatterns`."""

from sessions.views import clients, exports, followups, notes, review, snippets, work

app_name = "crisis_sessions"
urlpatterns = [
    *work.urlpatterns,
    *clients.urlpatterns,
    *notes.urlpatterns,
    *review.urlpatterns,
    *followups.urlpatterns,
    *exports.urlpatterns,
    *snippets.urlpatterns,
]
