"""The Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`).

kubectl and client-go send typed objects as protobuf: `k8s\\x00` then a runtime.Unknown
envelope holding apiVersion, kind and the object's message. kubelite keeps objects as
JSON dicts, so the API server decodes such bodies into the dict the same object would
have been in JSON. The field table (`table.py`) is generated from a kubectl binary of
the pinned minor version by `extract.py`; see README.md.
"""

from kubelite.api.protobuf.decode import MAGIC, decode_message, decode_object
from kubelite.api.protobuf.encode import encode_message, encode_object
from kubelite.api.protobuf.fields import definition_for
from kubelite.api.protobuf.wire import DecodeError

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

__all__ = [
    "CONTENT_TYPE", "MAGIC", "DecodeError", "decode_message", "decode_object",
    "definition_for", "encode_message", "encode_object",
]
