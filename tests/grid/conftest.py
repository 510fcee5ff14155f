import pytest


@pytest.fixture
def world(db):
    from kiln.registry.models import Organisation
    from tests.personas import build_world

    built = build_world()
    Organisation.objects.filter(pk__in=[built.e1.pk, built.e2.pk]).update(kind=Organisation.Kind.ENTERPRISE)
    for e in (built.e1, built.e2):
        e.refresh_from_db()
    return built
