"""The Kubernetes manifests and image of deploy/kubernetes/: parsed with PyYAML and checked against the fields
the audit workers and the merge rely on (what `kubectl apply --dry-run=client` would reject, and more)."""

import re
from pathlib import Path

import pytest
import yaml

from crawler.jobs.merge import SHARD_COUNT_ENV, SHARD_INDEX_ENV, resolve_shard

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # an RFC 1123 label: what Kubernetes accepts as a name


def manifest(name: str) -> dict:
    (document,) = list(yaml.safe_load_all((DEPLOY / name).read_text()))
    return document


def container_of(job: dict) -> dict:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return container


def check_pod(job: dict) -> dict:
    """What every pod needs: runs as non-root, never restarts in place, mounts only volumes it declares."""
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job" and NAME.match(job["metadata"]["name"])
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"  # a Job's pod template allows only Never or OnFailure
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    container = container_of(job)
    assert NAME.match(container["name"]) and container["image"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    declared = {volume["name"] for volume in pod["volumes"]}
    mounted = {mount["name"] for mount in container["volumeMounts"]}
    assert mounted <= declared, f"mounted but not declared: {mounted - declared}"
    assert {m["mountPath"] for m in container["volumeMounts"] if m["name"] == "results"} == {"/results"}
    (results,) = [v for v in pod["volumes"] if v["name"] == "results"]
    assert results["persistentVolumeClaim"]["claimName"] == manifest("results-pvc.yaml")["metadata"]["name"]
    return container


def test_the_audit_job_is_indexed_and_each_pod_audits_its_shard_into_its_own_database():
    job = manifest("audit-job.yaml")
    container = check_pod(job)
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["parallelism"] <= spec["completions"]
    command = " ".join(container["command"] + container["args"])
    assert "trackaudit audit" in command and "--shard auto" in command
    assert "--db /results/worker-$JOB_COMPLETION_INDEX/audit.db" in command
    assert container["command"][:2] == ["/bin/sh", "-c"]  # the shell expands $JOB_COMPLETION_INDEX
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env[SHARD_COUNT_ENV] == str(spec["completions"])  # --shard auto needs the Job's completions
    # Kubernetes sets JOB_COMPLETION_INDEX from 0: the last pod takes the last share, none is left over.
    shards = {
        resolve_shard("auto", {SHARD_INDEX_ENV: str(i), SHARD_COUNT_ENV: env[SHARD_COUNT_ENV]})
        for i in range(spec["completions"])
    }
    assert shards == {f"{i}/{spec['completions']}" for i in range(1, spec["completions"] + 1)}
    assert {"secretRef": {"name": "trackaudit-passwords"}} in container["envFrom"]  # passwords from a Secret
    assert "--secrets" not in command and "password" not in str(env).lower()
    config_volume = [v for v in job["spec"]["template"]["spec"]["volumes"] if v["name"] == "config"]
    assert config_volume == [{"name": "config", "configMap": {"name": "trackaudit-config"}}]
    assert "--config /config/vendors.toml" in command


def test_the_merge_job_reads_every_worker_database_from_the_shared_volume():
    container = check_pod(manifest("merge-job.yaml"))
    command = " ".join(container["command"] + container["args"])
    assert re.search(r"trackaudit merge /results/\S+\.db /results/worker-\*/audit\.db", command)


def test_the_shared_volume_is_writable_from_every_node_and_kustomize_lists_the_files():
    claim = manifest("results-pvc.yaml")
    assert claim["kind"] == "PersistentVolumeClaim" and claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["spec"]["resources"]["requests"]["storage"]
    kustomization = manifest("kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (DEPLOY / resource).is_file()


@pytest.mark.parametrize("line", ["FROM debian:", "apt-get install", "chromium", "python3 -m venv", "USER 10001"])
def test_the_image_is_debian_slim_with_debian_chromium_a_venv_and_a_non_root_user(line):
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert line in dockerfile
    assert "playwright install" not in dockerfile.replace("No `playwright install`", "")
    assert re.search(r"^FROM debian:\S+-slim$", dockerfile, re.MULTILINE)


def test_the_image_copies_files_that_exist():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    sources = [part for line in dockerfile.splitlines() if line.startswith("COPY ") for part in line.split()[1:-1]]
    assert "crawler" in sources and "pyproject.toml" in sources
    for source in sources:
        assert (DEPLOY.parents[1] / source).exists(), source
