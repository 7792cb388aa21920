"""URLs and views of this area are added by the feature that owns it."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
