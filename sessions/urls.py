"""URLs of the sessions app, one list per area (each area's views module owns its own)."""

from sessions.views import work

app_name = "crisis_sessions"
urlpatterns = [
    *work.urlpatterns,
]
