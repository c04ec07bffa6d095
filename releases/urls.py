from django.urls import path

from releases import views

urlpatterns = [
    path("ci-webhook", views.ci_webhook, name="ci-webhook"),
]
