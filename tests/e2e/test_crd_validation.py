"""CustomResourceDefinitions are validated as kube-apiserver validates them: real kubectl
prints upstream's 422 text, and the official client's ApiextensionsV1Api gets the
causes with upstream's field paths; update rules hold once a CRD is Established."""

from __future__ import annotations

import json
import textwrap
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tests.cluster import Cluster

BAD_NAME = textwrap.dedent("""\
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: gadget.GROUP}
    spec:
      group: GROUP
      scope: Namespaced
      names: {plural: gadgets, kind: Gadget}
      versions:
      - name: v1
        served: true
        storage: true
        schema:
          openAPIV3Schema:
            type: object
            properties:
              spec:
                type: object
                properties:
                  size: {type: integer}
    """)


def group() -> str:
    return f"v{uuid.uuid4().hex[:6]}.example.com"


@pytest.mark.parametrize("version", ["1.35", "1.32"])
def test_kubectl_apply_of_a_misnamed_crd_prints_upstreams_422(cluster: Cluster,
                                                              version: str) -> None:
    g = group()
    result = cluster.kubectl("apply", "-f", "-", input=BAD_NAME.replace("GROUP", g),
                             check=False, version=version)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f'The CustomResourceDefinition "gadget.{g}" is invalid: metadata.name: Invalid '
        f'value: "gadget.{g}": must be spec.names.plural+"."+spec.group')
    assert cluster.kubectl("get", "crd", f"gadget.{g}", check=False).returncode == 1


def test_kubectl_lists_every_cause(cluster: Cluster) -> None:
    g = group()
    manifest = (BAD_NAME.replace("GROUP", g).replace("gadget.", "gadgets.")
                .replace("size: {type: integer}", "size: {minimum: 1}")
                .replace("name: v1", "name: V1"))
    result = cluster.kubectl("create", "-f", "-", input=manifest, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f'The CustomResourceDefinition "gadgets.{g}" is invalid: \n'
        f'* spec.versions[0].name: Invalid value: "V1": a DNS-1035 label must consist of lower '
        "case alphanumeric characters or '-', start with an alphabetic character, and end with "
        "an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation "
        "is '[a-z]([-a-z0-9]*[a-z0-9])?')\n"
        f'* spec.version: Invalid value: "V1": a DNS-1035 label must consist of lower '
        "case alphanumeric characters or '-', start with an alphabetic character, and end with "
        "an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation "
        "is '[a-z]([-a-z0-9]*[a-z0-9])?')\n"
        "* spec.validation.openAPIV3Schema.properties[spec].properties[size].type: Required "
        "value: must not be empty for specified object fields")


def test_kubectl_shows_a_decode_error_for_a_mistyped_keyword(cluster: Cluster) -> None:
    g = group()
    manifest = (BAD_NAME.replace("GROUP", g).replace("gadget.", "gadgets.")
                .replace("size: {type: integer}", "size: {type: integer, minimum: one}"))
    result = cluster.kubectl("create", "-f", "-", input=manifest, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        'Error from server (BadRequest): error when creating "STDIN": CustomResourceDefinition '
        'in version "v1" cannot be handled as a CustomResourceDefinition: json: cannot '
        "unmarshal string into Go struct field JSONSchemaProps.spec.versions.schema."
        "openAPIV3Schema.properties.properties.minimum of type float64")


@pytest.fixture(scope="module")
def extensions(cluster: Cluster) -> client.ApiextensionsV1Api:
    return client.ApiextensionsV1Api(config.new_client_from_config(
        config_file=cluster.kubeconfig))


def crd_body(g: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"sprockets.{g}"},
        "spec": {"group": g, "scope": "Namespaced",
                 "names": {"plural": "sprockets", "kind": "Sprocket"},
                 "versions": [{
                     "name": "v1", "served": True, "storage": True,
                     "subresources": {"status": {}, "scale": {
                         "specReplicasPath": ".spec.replicas",
                         "statusReplicasPath": ".status.replicas"}},
                     "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                         "spec": {"type": "object", "properties": {
                             "replicas": {"type": "integer"}}},
                         "status": {"type": "object", "properties": {
                             "replicas": {"type": "integer"}}}}}}}]}}


@pytest.fixture
def sprockets(extensions: client.ApiextensionsV1Api, cluster: Cluster) -> Iterator[str]:
    """An Established CRD; yields its name."""
    body = crd_body(group())
    name = body["metadata"]["name"]
    created = extensions.create_custom_resource_definition(body)
    assert created.spec.names.singular == "sprocket"
    assert created.spec.names.list_kind == "SprocketList"
    assert created.spec.conversion.strategy == "None"
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=20s", f"crd/{name}")
    yield name
    extensions.delete_custom_resource_definition(name)


def causes(exc: ApiException) -> list[tuple[str, str, str]]:
    status = json.loads(exc.body)
    assert (exc.status, status["reason"]) == (422, "Invalid")
    return [(c["reason"], c["field"], c["message"]) for c in status["details"]["causes"]]


def test_client_gets_upstreams_causes(extensions: client.ApiextensionsV1Api) -> None:
    body = crd_body(group())
    body["spec"]["versions"][0]["subresources"]["scale"]["specReplicasPath"] = "spec.replicas"
    body["spec"]["conversion"] = {"strategy": "Webhook"}
    with pytest.raises(ApiException) as caught:
        extensions.create_custom_resource_definition(body)
    assert causes(caught.value) == [
        ("FieldValueInvalid", "spec.subresources.scale.specReplicasPath",
         'Invalid value: "spec.replicas": must be a simple json path starting with .'),
        ("FieldValueRequired", "spec.conversion.webhookClientConfig",
         "Required value: required when strategy is set to Webhook"),
        ("FieldValueRequired", "spec.conversion.conversionReviewVersions", "Required value")]


def test_established_crd_keeps_its_scope(extensions: client.ApiextensionsV1Api,
                                         sprockets: str) -> None:
    with pytest.raises(ApiException) as caught:
        extensions.patch_custom_resource_definition(sprockets, {"spec": {"scope": "Cluster"}})
    assert causes(caught.value) == [
        ("FieldValueInvalid", "spec.scope", 'Invalid value: "Cluster": field is immutable')]


def test_stored_version_stays_until_migrated(extensions: client.ApiextensionsV1Api,
                                             sprockets: str) -> None:
    crd = extensions.read_custom_resource_definition(sprockets)
    v2 = client.V1CustomResourceDefinitionVersion(
        name="v2", served=True, storage=True, schema=crd.spec.versions[0].schema,
        subresources=crd.spec.versions[0].subresources)
    crd.spec.versions[0].storage = False
    crd.spec.versions.append(v2)
    crd = extensions.replace_custom_resource_definition(sprockets, crd)
    assert crd.status.stored_versions == ["v1", "v2"]
    assert crd.metadata.generation == 2
    crd.spec.versions = crd.spec.versions[1:]
    with pytest.raises(ApiException) as caught:
        extensions.replace_custom_resource_definition(sprockets, crd)
    [(reason, field, message)] = causes(caught.value)
    assert (reason, field) == ("FieldValueInvalid", "status.storedVersions[0]")
    assert message.startswith('Invalid value: "v1": missing from spec.versions; v1 was '
                              "previously a storage version")
    # A storage migration ends by dropping the version from status.storedVersions.
    crd = extensions.read_custom_resource_definition(sprockets)
    crd.status.stored_versions = ["v2"]
    extensions.replace_custom_resource_definition_status(sprockets, crd)
    crd = extensions.read_custom_resource_definition(sprockets)
    crd.spec.versions = crd.spec.versions[1:]
    assert [v.name for v in extensions.replace_custom_resource_definition(
        sprockets, crd).spec.versions] == ["v2"]
