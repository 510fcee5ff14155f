import pytest
from kiln.review import services
from tests.review.conftest import m

@pytest.mark.django_db
def test_try(reviewers):
    w = reviewers
    sub = services.open_submission(w.e1, "2024", actor=w.e1_staff, membership=m(w.e1_staff))
    check = services.run_self_check(sub, actor=w.e1_staff, membership=m(w.e1_staff))
    for f in check.results: print(f)
    print(check.skipped)
