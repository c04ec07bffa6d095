from django.urls import path

from conversations import views

urlpatterns = [
    path("webhook/<slug:client_slug>", views.webhook, name="webhook"),
    path("webhook", views.webhook, name="webhook-slug-in-body"),
    path("admin/outbox/process", views.outbox_process, name="outbox-process"),
    path("reminders/process", views.reminders_process, name="reminders-process"),
]
