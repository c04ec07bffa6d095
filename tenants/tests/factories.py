from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from imperium.core.crypto import generate_webhook_secret
from tenants.models import Client, ClientSettings, TenantMembership


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda o: f"Business {o.slug}")
    status = "active"
    settings = factory.RelatedFactory("tenants.tests.factories.ClientSettingsFactory", factory_related_name="client")


class ClientSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientSettings

    client = factory.SubFactory(ClientFactory, settings=None)
    webhook_secret = factory.LazyFunction(generate_webhook_secret)
    chatflow_token = "cf-token-0123456789"
    chatflow_instance_id = factory.Sequence(lambda n: f"instance-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenantMembership

    user = factory.SubFactory(UserFactory)
    client = factory.SubFactory(ClientFactory)
    role = "operator"
