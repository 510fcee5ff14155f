"""The ledger page: head and hashes for reviewers, checks, signing and proof bundles for operators."""

import json

from django.urls import reverse

from kiln.ledger import services


def test_reviewers_see_hashes_but_not_references(client, world):
    entry = services.append("activity_batch", "secret-reference-E1", {"rows": 3})
    services.sign_tree_head()
    client.force_login(world.gov_a)
    page = client.get(reverse("ledger:overview"))
    assert page.status_code == 200
    assert bytes(entry.leaf_hash).hex() in page.text and "secret-reference-E1" not in page.text
    assert client.get(reverse("ledger:bundle", args=[entry.index])).status_code == 404
    # No bundle links for them, so the page says where their proofs are instead.
    assert reverse("ledger:bundle", args=[entry.index]) not in page.text and "审核页面" in page.text
    client.force_login(world.e1_staff)
    assert client.get(reverse("ledger:overview")).status_code == 404


def test_operators_verify_sign_and_download_proofs(client, world):
    entry = services.append("activity_batch", "batch-1", {"rows": 3})
    client.force_login(world.admin)
    client.post(reverse("ledger:sign"))
    bundle = json.loads(client.get(reverse("ledger:bundle", args=[entry.index])).content)
    assert bundle["entry"]["leaf_hash"] == bytes(entry.leaf_hash).hex() and "payload" not in bundle["entry"]
    client.post(reverse("ledger:verify"))
    report = client.get(reverse("ledger:overview")).context["report"]
    assert report["ok"], report["problems"]
    assert report["entries"] == services.current_size()
