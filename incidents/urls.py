from django.urls import path

from incidents import api

urlpatterns = [
    path("incidents/<int:incident_id>/rca", api.incident_rca, name="incident-rca"),
    path("incidents/<int:incident_id>/acknowledge", api.incident_acknowledge, name="incident-acknowledge"),
]
