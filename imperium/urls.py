from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from imperium import views

urlpatterns = [
    path("health", views.health, name="health"),
    path("db-check", views.db_check, name="db-check"),
    path("metrics", views.metrics, name="metrics"),
    # Registered before the admin catch-all so /admin/health is not taken for a model page.
    path("admin/health", views.admin_health, name="admin-health"),
    # Webhook and /admin/outbox/process (also before the admin catch-all).
    path("", include("conversations.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("imperium.telegram.urls")),
    path("releases/", include("releases.urls")),
    path("", include("incidents.urls")),
    path("i18n/", include("django.conf.urls.i18n")),  # the admin's language switch (set_language)
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]

handler400 = "imperium.views.bad_request"
handler403 = "imperium.views.permission_denied"
handler404 = "imperium.views.not_found"
handler500 = "imperium.views.server_error"
