from typing import Any

import pytest

from kubelite.api.protobuf import DecodeError, decode_message, decode_object, encode_message, encode_object, wire
from kubelite.api.protobuf.kubectl_bodies import BODIES

POD: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "namespace": "default", "labels": {"app": "web"},
                 "creationTimestamp": "2024-05-06T07:08:09Z", "deletionGracePeriodSeconds": 0,
                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs",
                                      "uid": "u1", "controller": True}],
                 "managedFields": [{"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1",
                                    "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}}}]},
    "spec": {
        "containers": [{
            "name": "c", "image": "nginx", "command": ["sh", "-c"], "args": ["sleep 1"],
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "env": [{"name": "A", "value": "b"},
                    {"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m"}},
            "livenessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
            "readinessProbe": {"tcpSocket": {"port": 80}, "failureThreshold": 3},
            "securityContext": {"runAsUser": 0, "privileged": False, "allowPrivilegeEscalation": False},
            "volumeMounts": [{"name": "v", "mountPath": "/data", "readOnly": True}],
        }],
        "volumes": [{"name": "v", "configMap": {"name": "cm", "defaultMode": 420}},
                    {"name": "e", "emptyDir": {"sizeLimit": "1Gi"}}],
        "automountServiceAccountToken": False, "terminationGracePeriodSeconds": 0,
        "nodeSelector": {"disk": "ssd"}, "securityContext": {"supplementalGroups": [1, 2]},
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule",
                         "tolerationSeconds": 30}],
    },
    "status": {"phase": "Running", "startTime": "2024-05-06T07:08:10Z",
               "conditions": [{"type": "Ready", "status": "True",
                               "lastTransitionTime": "2024-05-06T07:08:11Z"}]},
}

ROUND_TRIPS = [
    POD,
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
     "spec": {"replicas": 0, "selector": {"matchLabels": {"a": "b"},
                                          "matchExpressions": [{"key": "k", "operator": "In",
                                                                "values": ["x", "y"]}]},
              "template": {"metadata": {"labels": {"a": "b"}},
                           "spec": {"containers": [{"name": "c", "image": "i"}]}},
              "strategy": {"type": "RollingUpdate",
                           "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}}},
    {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cj"},
     "spec": {"schedule": "* * * * *", "suspend": False, "timeZone": "UTC",
              "jobTemplate": {"spec": {"backoffLimit": 0, "parallelism": 2, "template": {
                  "spec": {"containers": [{"name": "c", "image": "i"}], "restartPolicy": "Never"}}}}}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque",
     "data": {"k": "dg==", "empty": ""}, "immutable": False},
    {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"},
     "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15,
              "renewTime": "2024-05-06T07:08:09.123456Z", "acquireTime": "2024-05-06T07:08:09.000000Z"}},
    {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": "cr"},
     "revision": 3, "data": {"spec": {"template": {"x": [1, "two", None]}}}},
    {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
     "metadata": {"name": "csr"},
     "spec": {"request": "aGVsbG8=", "signerName": "x/y", "usages": ["client auth"],
              "extra": {"groups": ["a", "b"], "none": []}, "expirationSeconds": 600}},
    {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
     "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, "maxReplicas": 5,
              "minReplicas": 1, "metrics": [{"type": "Resource", "resource": {
                  "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
     "spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": "web", "nodePort": 30080}],
              "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}}}},
    {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}, "count": -1,
     "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "R",
     "eventTime": "2024-05-06T07:08:09.000001Z"},
]


@pytest.mark.parametrize("obj", ROUND_TRIPS, ids=lambda o: o["kind"])
def test_encoded_object_decodes_to_the_same_dict(obj: dict[str, Any]) -> None:
    unknown: list[str] = []
    assert decode_object(encode_object(obj), unknown) == obj
    assert unknown == []


@pytest.mark.parametrize("name", sorted(BODIES), ids=sorted(BODIES))
def test_kubectl_body_decodes_to_the_json_kubectl_would_send(name: str) -> None:
    _, body, expected = BODIES[name]
    unknown: list[str] = []
    assert decode_object(body, unknown) == expected
    assert unknown == []


GOGO_ZEROS = [  # (definition, fields Go writes although unset, expected JSON)
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
     wire.bytes_field(1, b"n") + wire.bytes_field(2, b"") + wire.varint_field(7, 0)
     + wire.bytes_field(8, b""), {"name": "n"}),
    ("io.k8s.api.apps.v1.DeploymentSpec", wire.varint_field(1, 0) + wire.varint_field(5, 0),
     {"replicas": 0}),
    ("io.k8s.api.core.v1.PodSpec", wire.varint_field(21, 0) + wire.varint_field(11, 0),
     {"automountServiceAccountToken": False}),
    ("io.k8s.api.core.v1.ContainerPort", wire.varint_field(3, 0), {"containerPort": 0}),
    ("io.k8s.api.core.v1.Container", wire.bytes_field(8, b""), {"resources": {}}),
]


@pytest.mark.parametrize("definition,data,expected", GOGO_ZEROS,
                         ids=["omitempty-dropped", "pointer-zero-kept", "pointer-false-kept",
                              "non-omitempty-kept", "empty-struct-kept"])
def test_zero_values_follow_go_json(definition: str, data: bytes, expected: dict[str, Any]) -> None:
    assert decode_message(definition, data) == expected


def test_unknown_field_numbers_are_skipped_and_reported() -> None:
    data = wire.bytes_field(1, b"n") + wire.varint_field(999, 5) + wire.bytes_field(998, b"x")
    unknown: list[str] = []
    assert decode_message("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", data, unknown) == {"name": "n"}
    assert unknown == ["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta: field 999",
                       "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta: field 998"]


def test_unknown_field_path_names_the_nested_object() -> None:
    meta = wire.bytes_field(1, b"n") + wire.varint_field(500, 1)
    unknown: list[str] = []
    decode_message("io.k8s.api.core.v1.ConfigMap", wire.bytes_field(1, meta), unknown)
    assert unknown == ["metadata: field 500"]


def test_packed_repeated_scalars_decode_like_unpacked_ones() -> None:
    packed = wire.bytes_field(4, wire.varint(1) + wire.varint(2))
    unpacked = wire.varint_field(4, 1) + wire.varint_field(4, 2)
    psc = "io.k8s.api.core.v1.PodSecurityContext"
    assert decode_message(psc, packed) == decode_message(psc, unpacked) == {"supplementalGroups": [1, 2]}


def test_named_slice_decodes_from_its_wrapper_message() -> None:
    verbs = wire.bytes_field(4, wire.bytes_field(1, b"get") + wire.bytes_field(1, b"list"))
    assert decode_message("io.k8s.apimachinery.pkg.apis.meta.v1.APIResource", verbs) == {"verbs": ["get", "list"]}


MALFORMED = [
    (b"{}", "magic"),
    (b"k8s\x00\x0a\x05\x0a", "past the end"),
    (b"k8s\x00" + wire.bytes_field(2, b""), "no apiVersion"),
    (b"k8s\x00" + wire.bytes_field(1, wire.bytes_field(1, b"v1") + wire.bytes_field(2, b"Nope")),
     "no protobuf decoding"),
    (encode_object({"apiVersion": "v1", "kind": "ConfigMap"})[:-4]
     + wire.bytes_field(3, b"gzip") + wire.bytes_field(4, b""), "content encoding"),
    (b"k8s\x00" + wire.bytes_field(1, wire.bytes_field(1, b"v1") + wire.bytes_field(2, b"ConfigMap"))
     + wire.bytes_field(2, wire.varint_field(1, 3)), "length-delimited"),
    (b"k8s\x00\x0b", "wire type 3"),
]


@pytest.mark.parametrize("body,message", MALFORMED,
                         ids=["no-magic", "truncated", "no-kind", "unknown-kind", "gzip",
                              "wrong-wire-type", "group"])
def test_malformed_body_raises_decode_error(body: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_object(body)


def test_encoder_rejects_a_field_the_table_does_not_know() -> None:
    with pytest.raises(ValueError, match="nope"):
        encode_object({"apiVersion": "v1", "kind": "ConfigMap", "nope": 1})
