import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Stored originals and evidence go to a fresh directory per test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def membership_of(user):
    from kiln.accounts.models import Membership

    return Membership.objects.select_related("organisation").get(user=user)


@pytest.fixture
def submit(world):
    """Import through the service as a persona (default: E1's staff) from a file's bytes."""
    from kiln.intake.services import import_activity

    def run(data, *, user=None, name="data.csv", door="upload", **kwargs):
        user = user or world.e1_staff
        if isinstance(data, bytes | list) or hasattr(data, "read") or hasattr(data, "height"):
            source = data
        else:
            raise TypeError(data)
        return import_activity(
            source,
            actor=user,
            membership=membership_of(user),
            door=door,
            file_name=name if isinstance(data, bytes) else None,
            **kwargs,
        )

    return run
