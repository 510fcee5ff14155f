"""An enterprise proves its own batches and deposits: bundle and verifier downloaded, checked offline."""

import json
import os
import subprocess
import sys

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kiln.intake.models import EvidenceFile, ImportBatch
from kiln.ledger.models import SignedTreeHead
from tests.intake.files import csv_bytes, row

PDF = b"%PDF-1.7\n%%EOF\n"


def verify_offline(tmp_path, client, bundle: bytes) -> subprocess.CompletedProcess:
    """Run the downloaded verifier on the downloaded bundle, in a directory with nothing else."""
    (tmp_path / "verifier.py").write_bytes(client.get(reverse("ledger:verifier")).content)
    (tmp_path / "bundle.json").write_bytes(bundle)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "DJANGO_SETTINGS_MODULE"}}
    return subprocess.run(
        [sys.executable, "-I", "verifier.py", "bundle.json", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_a_fresh_batch_has_its_proof_at_once(world, client_for, tmp_path):
    client = client_for(world.e1_staff)
    page = client.post(
        reverse("intake:upload"), {"file": SimpleUploadedFile("m.csv", csv_bytes([row(world.e1)]))}
    )
    batch = ImportBatch.objects.get()
    proof_url = reverse("intake:batch-proof", args=[batch.pk])
    assert proof_url in page.content.decode()
    assert not SignedTreeHead.objects.filter(tree_size__gt=batch.ledger_index).exists()
    response = client.get(proof_url)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    bundle = json.loads(response.content)
    assert bundle["entry"]["index"] == batch.ledger_index
    assert batch.rows_sha256 in bundle["entry"]["payload"]  # the canonical entry vouches for the rows
    result = verify_offline(tmp_path, client, response.content)
    assert result.returncode == 0, result.stdout + result.stderr
    # Tampered with, the same bundle no longer verifies.
    bundle["entry"]["payload"] = bundle["entry"]["payload"].replace(batch.rows_sha256, "0" * 64)
    assert verify_offline(tmp_path, client, json.dumps(bundle).encode()).returncode == 1


def test_a_deposit_has_its_proof(world, client_for, tmp_path):
    client = client_for(world.e1_staff)
    month = reverse("intake:deposit-month", args=[world.e1.credit_code, "2024-03"])
    client.post(month, {"kind": "invoice", "file": SimpleUploadedFile("发票.pdf", PDF)})
    evidence = EvidenceFile.objects.get()
    proof_url = reverse("intake:evidence-proof", args=[evidence.pk])
    assert proof_url in client.get(month).content.decode()
    response = client.get(proof_url)
    assert evidence.sha256 in json.loads(response.content)["entry"]["payload"]
    assert verify_offline(tmp_path, client, response.content).returncode == 0


def test_proofs_are_scoped(world, client_for):
    client_for(world.e1_staff).post(
        reverse("intake:upload"), {"file": SimpleUploadedFile("m.csv", csv_bytes([row(world.e1)]))}
    )
    batch = ImportBatch.objects.get()
    assert client_for(world.e2_staff).get(reverse("intake:batch-proof", args=[batch.pk])).status_code == 404
    assert client_for(world.admin).get(reverse("intake:batch-proof", args=[batch.pk])).status_code == 200
