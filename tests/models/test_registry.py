"""Every model of the app: a factory that builds a valid row, and migrations that match."""

import factory
import pytest
from django.apps import apps

from tests import factories

pytestmark = pytest.mark.django_db


FACTORIES = [
    f
    for f in vars(factories).values()
    if isinstance(f, type)
    and issubclass(f, factory.django.DjangoModelFactory)
    and not f._meta.abstract
    and f is not factories.UserFactory
]


def test_every_model_has_a_factory():
    covered = {f._meta.model for f in FACTORIES}
    concrete = {m for m in apps.get_app_config("bookings_app").get_models() if m._meta.managed}
    assert concrete - covered == set()


@pytest.mark.parametrize("model_factory", FACTORIES, ids=lambda f: f.__name__)
def test_factory_builds_a_valid_saved_row(model_factory):
    obj = model_factory()

    obj.full_clean()
    assert obj.pk is not None
    assert str(obj)


def test_migrations_match_the_models() -> None:
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
