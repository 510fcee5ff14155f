from __future__ import annotations

from kiln.review import services
from kiln.review.models import Submission
from tests.review.conftest import YEAR, m


def opened(world, period=str(YEAR)) -> Submission:
    return services.open_submission(world.e1, period, actor=world.e1_staff, membership=m(world.e1_staff))


def checked(world, period=str(YEAR), explain=True) -> Submission:
    sub = opened(world, period)
    check = services.run_self_check(sub, actor=world.e1_staff, membership=m(world.e1_staff))
    if explain:
        for f in check.results:
            if f["severity"] == "warning":
                services.acknowledge(
                    sub,
                    f["key"],
                    "Explained for the test.",
                    actor=world.e1_staff,
                    membership=m(world.e1_staff),
                )
    sub.refresh_from_db()
    return sub


def act(sub, action, user, **kwargs) -> Submission:
    return services.transition(sub, action, actor=user, membership=m(user), **kwargs)


def submitted(world, period=str(YEAR)) -> Submission:
    sub = checked(world, period)
    return act(sub, "submit", world.e1_staff)


def in_final(world) -> Submission:
    sub = submitted(world)
    act(sub, "start_preliminary", world.gov_county)
    return act(sub, "pass_preliminary", world.gov_county)
