from django.urls import path

from imperium.telegram import views

urlpatterns = [
    path("telegram-webhook", views.telegram_webhook, name="telegram-webhook"),
    path("alerts/test", views.alerts_test, name="alerts-test"),
]
