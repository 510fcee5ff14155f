"""GET /ledger/head, /ledger/proof/{index}, /ledger/consistency: hashes only, logged-in users only."""

from __future__ import annotations

import pytest
from ninja.testing import TestClient

from kiln.ledger import merkle
from kiln.ledger.api import router

SECRET = "confidential-coal-price-812.50"


@pytest.fixture
def api():
    return TestClient(router)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="ledger-reader", password="x-Very-long-1")


@pytest.fixture
def filled(ledger):
    ledger.append_many(("activity_batch", f"E1/{i}", {"price": SECRET, "i": i}) for i in range(30))
    return ledger


def test_anonymous_callers_are_refused(client, filled):
    filled.sign_tree_head()
    for path in ("/head", "/proof/1", "/consistency?old=1&new=30"):
        assert client.get("/api/v1/ledger" + path).status_code == 401


def test_head_is_404_until_signed(api, user, filled):
    response = api.get("/head", user=user)
    assert response.status_code == 404 and response.json()["code"] == "KLN-LEDGER-102"
    signed = filled.sign_tree_head()
    assert api.get("/head", user=user).json() == signed.as_dict()


def test_proof_reveals_hashes_only_and_verifies(api, user, filled):
    assert api.get("/proof/3", user=user).status_code == 409
    filled.sign_tree_head()
    response = api.get("/proof/3", user=user)
    assert response.status_code == 200
    assert SECRET not in response.text and "payload" not in response.json()
    body = response.json()
    assert merkle.verify_inclusion(
        bytes.fromhex(body["leaf_hash"]),
        body["leaf_index"],
        body["tree_size"],
        [bytes.fromhex(h) for h in body["path"]],
        bytes.fromhex(body["tree_head"]["root_hash"]),
    )
    assert api.get("/proof/30", user=user).status_code == 404
    assert api.get("/proof/3?tree_size=29", user=user).status_code == 404
    assert api.get("/proof/3?tree_size=30", user=user).status_code == 200


def test_consistency_between_two_sizes(api, user, filled):
    body = api.get("/consistency?old=7&new=30", user=user).json()
    assert merkle.verify_consistency(
        7,
        30,
        bytes.fromhex(body["old_root"]),
        bytes.fromhex(body["new_root"]),
        [bytes.fromhex(h) for h in body["path"]],
    )
    assert api.get("/consistency?old=7&new=31", user=user).status_code == 404
