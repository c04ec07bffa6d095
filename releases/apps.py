from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "releases"
    verbose_name = "Releases"

    def ready(self) -> None:
        from conversations.services.turns import register_serving_context
        from releases import rca
        from releases.selectors import serving_context

        register_serving_context(serving_context)  # the pipeline asks releases which release/KB serve a turn
        rca.register()  # the release and KB version in effect, in incident RCA bundles
