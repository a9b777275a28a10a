"""A CRD's conversion settings (validation.go validateCustomResourceConversion and
k8s.io/apiserver/pkg/util/webhook/validation.go).

`None` converts by rewriting apiVersion and forbids any webhook settings; `Webhook`
needs exactly one of an https URL (no user, query or fragment) or an in-cluster
service, plus ConversionReviewVersions that include one this server speaks (v1,
v1beta1). v1 nests these under `spec.conversion.webhook`; upstream reports them as
`spec.conversion.webhookClientConfig...` and `spec.conversion.conversionReviewVersions`,
the internal type's names, and so does kubelite.

A caBundle is checked only when an established CRD whose bundle was valid changes it
(`ca_bundle_causes`, called from the update rules); on create anything is accepted,
as upstream allows while a CRD is not yet serving.
"""

from __future__ import annotations

import base64
import binascii
import re
import ssl
from typing import Any
from urllib.parse import urlsplit

from kubelite.machinery.errors import Cause
from kubelite.machinery.validation import is_dns1035_label, is_dns1123_subdomain

from .causes import forbidden, invalid, not_supported, required
from .jsonvalues import as_object

Obj = dict[str, Any]

ACCEPTED_REVIEW_VERSIONS = ("v1", "v1beta1")
_AT = "spec.conversion"
_FORM = "; desired format: https://host[/path]"


def conversion_causes(conversion: Obj | None) -> list[Cause]:
    if conversion is None:
        return []
    causes: list[Cause] = []
    strategy = conversion.get("strategy")
    if not strategy:
        causes.append(required(_AT + ".strategy"))
    elif strategy not in ("None", "Webhook"):
        causes.append(not_supported(_AT + ".strategy", strategy, ("None", "Webhook")))
    webhook = as_object(conversion.get("webhook"))
    client = webhook.get("clientConfig")
    reviews = webhook.get("conversionReviewVersions")
    if strategy == "Webhook":
        if not isinstance(client, dict):
            causes.append(required(_AT + ".webhookClientConfig",
                                   "required when strategy is set to Webhook"))
        else:
            causes.extend(_client_config_causes(client))
        causes.extend(_review_versions_causes(reviews))
    else:
        if client is not None:
            causes.append(forbidden(_AT + ".webhookClientConfig",
                                    "should not be set when strategy is not set to Webhook"))
        if reviews:
            causes.append(forbidden(_AT + ".conversionReviewVersions",
                                    "should not be set when strategy is not set to Webhook"))
    return causes


def _client_config_causes(client: Obj) -> list[Cause]:
    at = _AT + ".webhookClientConfig"
    url, service = client.get("url"), client.get("service")
    if (url is None) == (service is None):
        return [required(at, "exactly one of url or service is required")]
    if url is not None:
        return webhook_url_causes(url if isinstance(url, str) else "", at + ".url")
    service = service if isinstance(service, dict) else {}
    return webhook_service_causes(service, at + ".service")


def webhook_url_causes(url: str, at: str) -> list[Cause]:
    """ValidateWebhookURL with https forced."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
    except ValueError as exc:
        return [required(at, f"url must be a valid URL: {exc}{_FORM}")]
    causes: list[Cause] = []
    if parts.scheme != "https":
        causes.append(invalid(at, parts.scheme, "'https' is the only allowed URL scheme" + _FORM))
    if not host:
        causes.append(invalid(at, host, "host must be specified" + _FORM))
    if "@" in parts.netloc:
        causes.append(invalid(at, parts.netloc.rpartition("@")[0],
                              "user information is not permitted in the URL"))
    if parts.fragment:
        causes.append(invalid(at, parts.fragment, "fragments are not permitted in the URL"))
    if parts.query:
        causes.append(invalid(at, parts.query, "query parameters are not permitted in the URL"))
    return causes


def webhook_service_causes(service: Obj, at: str) -> list[Cause]:
    """ValidateWebhookService (port already defaulted to 443)."""
    causes: list[Cause] = []
    if not service.get("name"):
        causes.append(required(at + ".name"))
    if not service.get("namespace"):
        causes.append(required(at + ".namespace"))
    port = service.get("port", 443)
    if not (isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535):
        causes.append(invalid(at + ".port", port,
                              "port is not valid: must be between 1 and 65535, inclusive"))
    path = service.get("path")
    if not isinstance(path, str) or path in ("", "/"):
        return causes
    if path == "//":
        return causes + [invalid(at + ".path", path, "segment[0] may not be empty")]
    if not path.startswith("/"):
        causes.append(invalid(at + ".path", path, "must start with a '/'"))
    steps = path[1:]
    if steps.endswith("/"):
        steps = steps[:-1]
    for i, step in enumerate(steps.split("/")):
        if not step:
            causes.append(invalid(at + ".path", path, f"segment[{i}] may not be empty"))
            continue
        for failure in is_dns1123_subdomain(step):
            causes.append(invalid(at + ".path", path, f"segment[{i}]: {failure}"))
    return causes


def _review_versions_causes(versions: Any) -> list[Cause]:
    at = _AT + ".conversionReviewVersions"
    if not isinstance(versions, list) or not versions:
        return [required(at)]
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, version in enumerate(versions):
        version = version if isinstance(version, str) else ""
        if version in seen:
            causes.append(invalid(f"{at}[{i}]", version, "duplicate version"))
            continue
        seen.add(version)
        causes.extend(invalid(f"{at}[{i}]", version, e) for e in is_dns1035_label(version))
    if not seen & set(ACCEPTED_REVIEW_VERSIONS):
        causes.append(invalid(at, versions, "must include at least one of "
                                            + ", ".join(ACCEPTED_REVIEW_VERSIONS)))
    return causes


_PEM_BLOCK = re.compile(r"-----BEGIN ([^-]+)-----(.*?)-----END \1-----", re.S)


def ca_bundle_problem(bundle: str) -> str:
    """Why client-go would refuse `bundle` (base64 PEM) as root certificates ("" if fine)."""
    try:
        pem = base64.b64decode(bundle, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return "unable to load root certificates: unable to parse bytes as PEM block"
    blocks = _PEM_BLOCK.findall(pem)
    if not blocks:
        return "unable to load root certificates: unable to parse bytes as PEM block"
    for kind, _ in blocks:
        if kind != "CERTIFICATE":
            return f'unable to load root certificates: unexpected PEM block type "{kind}"'
    try:
        ssl.create_default_context(cadata=pem)
    except ssl.SSLError as exc:
        return f"unable to load root certificates: failed to parse certificate: {exc.reason}"
    return ""


def ca_bundle_causes(conversion: Any) -> list[Cause]:
    bundle = ca_bundle_of(conversion)
    if not bundle:
        return []
    problem = ca_bundle_problem(bundle)
    return [invalid(_AT + ".webhookClientConfig.caBundle", bundle, problem)] if problem else []


def ca_bundle_of(conversion: Any) -> str:
    if not isinstance(conversion, dict) or conversion.get("strategy") != "Webhook":
        return ""
    webhook = conversion.get("webhook")
    client = webhook.get("clientConfig") if isinstance(webhook, dict) else None
    bundle = client.get("caBundle") if isinstance(client, dict) else None
    return bundle if isinstance(bundle, str) else ""
