"""Every Kubernetes manifest in deploy/k8s validates against the Kubernetes API's schemas."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
MANIFESTS = sorted(K8S.glob("*.yaml"))
kubernetes_validate = pytest.importorskip(
    "kubernetes_validate", reason="kubernetes-validate (dev extras)"
)


def _documents() -> list[tuple[str, dict]]:
    return [
        (path.name, doc)
        for path in MANIFESTS
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc.get("kind") != "Kustomization"
    ]


@pytest.mark.parametrize(
    "name, doc",
    _documents(),
    ids=lambda v: v if isinstance(v, str) else v.get("metadata", {}).get("name"),
)
def test_manifest_is_valid(name, doc):
    kubernetes_validate.validate(doc, "1.30", strict=True)


def test_kustomization_lists_existing_files():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (K8S / resource).exists(), resource


def _by_kind_and_name() -> dict[tuple[str, str], dict]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for _, doc in _documents()}


def _container(kind_name):
    return _by_kind_and_name()[kind_name]["spec"]["template"]["spec"]["containers"][0]


def test_web_probes_use_healthz_for_liveness_and_readyz_for_readiness():
    web = _container(("Deployment", "marelle-web"))
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_every_workload_is_non_root_with_resources():
    docs = _by_kind_and_name()
    for key in [
        ("Deployment", "marelle-web"),
        ("Deployment", "marelle-worker"),
        ("Deployment", "marelle-beat"),
        ("Job", "marelle-migrate"),
    ]:
        pod = docs[key]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, key
        for container in pod["containers"]:
            assert container["resources"]["requests"]["memory"], key
            assert container["resources"]["limits"]["memory"], key
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, key


def test_there_is_one_beat_a_service_an_ingress_and_a_migration_job():
    docs = _by_kind_and_name()
    assert docs[("Deployment", "marelle-beat")]["spec"]["replicas"] == 1
    assert docs[("Deployment", "marelle-beat")]["spec"]["strategy"]["type"] == "Recreate"
    assert ("Service", "marelle-web") in docs
    assert ("Ingress", "marelle") in docs
    assert _container(("Job", "marelle-migrate"))["args"] == ["migrate"]


def test_an_invalid_manifest_is_refused():
    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"replicas": "two", "selector": {}, "template": {}},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.30", strict=True)
