import copy
from typing import Any, Callable

import pytest

from kubelite.apiserver.registry.strategies import STRATEGIES
from kubelite.apiserver.registry.strategies.causes import render_value
from kubelite.machinery.errors import BadRequest

CRD = STRATEGIES[("apiextensions.k8s.io", "customresourcedefinitions")]
DNS1035 = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
           "with an alphabetic character, and end with an alphanumeric character (e.g. "
           "'my-name',  or 'abc-123', regex used for validation is "
           "'[a-z]([-a-z0-9]*[a-z0-9])?')")
SCHEMA = "spec.validation.openAPIV3Schema"


def widget_crd() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"],
                      "categories": ["all"]},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "subresources": {"status": {}, "scale": {
                    "specReplicasPath": ".spec.replicas",
                    "statusReplicasPath": ".status.replicas"}},
                "additionalPrinterColumns": [
                    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}],
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {
                            "replicas": {"type": "integer", "default": 1},
                            "color": {"type": "string", "enum": ["red", "blue"]}}},
                        "status": {"type": "object", "properties": {
                            "replicas": {"type": "integer"}}}}}},
            }],
        },
    }


def created(crd: dict[str, Any]) -> dict[str, Any]:
    CRD.default(crd)
    CRD.prepare_for_create(crd)
    CRD.default(crd)
    return crd


def causes_of(crd: dict[str, Any]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in CRD.validate(created(crd))]


def schema_of(crd: dict[str, Any], version: int = 0) -> dict[str, Any]:
    return crd["spec"]["versions"][version]["schema"]["openAPIV3Schema"]


def spec_prop(crd: dict[str, Any]) -> dict[str, Any]:
    return schema_of(crd)["properties"]["spec"]["properties"]


def test_good_crd_passes_and_gets_v1_defaults() -> None:
    crd = created(widget_crd())
    assert CRD.validate(crd) == []
    assert crd["spec"]["names"]["singular"] == "widget"
    assert crd["spec"]["names"]["listKind"] == "WidgetList"
    assert crd["spec"]["conversion"] == {"strategy": "None"}
    assert crd["status"] == {"acceptedNames": {"plural": "", "kind": ""},
                             "storedVersions": ["v1"]}
    assert crd["metadata"]["generation"] == 1


def test_create_discards_client_status() -> None:
    crd = widget_crd()
    crd["status"] = {"storedVersions": ["v0"], "conditions": [{"type": "Established"}]}
    assert created(crd)["status"] == {"acceptedNames": {"plural": "", "kind": ""},
                                      "storedVersions": ["v1"]}


Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(crd: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = crd
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return mutate


def _schema(**props: Any) -> Mutation:
    def mutate(crd: dict[str, Any]) -> None:
        spec_prop(crd).update(props)
    return mutate


def _root(**keys: Any) -> Mutation:
    def mutate(crd: dict[str, Any]) -> None:
        schema_of(crd).update(keys)
    return mutate


def _two_versions(crd: dict[str, Any]) -> None:
    second = copy.deepcopy(crd["spec"]["versions"][0])
    second.update(name="v2", storage=False)
    crd["spec"]["versions"].append(second)


def _second_version_schema_differs(crd: dict[str, Any]) -> None:
    _two_versions(crd)
    spec_prop({"spec": {"versions": crd["spec"]["versions"][1:]}})["size"] = {}


def _webhook(**webhook: Any) -> Mutation:
    return _set("spec.conversion", {"strategy": "Webhook", "webhook": webhook})


CASES: list[tuple[str, Mutation, list[str]]] = [
    ("name-not-plural-dot-group", _set("metadata.name", "widget.example.com"),
     ['metadata.name: Invalid value: "widget.example.com": must be '
      'spec.names.plural+"."+spec.group']),
    ("group-without-dot", lambda c: (c["spec"].update(group="example"),
                                     c["metadata"].update(name="widgets.example")),
     ['spec.group: Invalid value: "example": should be a domain with at least one dot']),
    ("group-not-dns", lambda c: (c["spec"].update(group="Example.com"),
                                 c["metadata"].update(name="widgets.Example.com")),
     ['spec.group: Invalid value: "Example.com": a lowercase RFC 1123 subdomain must consist '
      "of lower case alphanumeric characters, '-' or '.', and must start and end with an "
      "alphanumeric character (e.g. 'example.com', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]),
    ("scope-missing", _set("spec.scope", None), ["spec.scope: Required value"]),
    ("scope-unknown", _set("spec.scope", "Global"),
     ['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']),
    ("kind-not-a-label", lambda c: c["spec"]["names"].update(
        kind="9Widget", singular="widget", listKind="WidgetList"),
     ['spec.names.kind: Invalid value: "9Widget": may have mixed case, but should otherwise '
      "match: " + DNS1035]),
    ("list-kind-equals-kind", _set("spec.names.listKind", "Widget"),
     ['spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same']),
    ("short-name-not-a-label", _set("spec.names.shortNames", ["w_d"]),
     ['spec.names.shortNames[0]: Invalid value: "w_d": ' + DNS1035]),
    ("category-not-a-label", _set("spec.names.categories", ["All"]),
     ['spec.names.categories[0]: Invalid value: "All": ' + DNS1035]),
    ("kind-missing", _set("spec.names.kind", None),
     ["spec.names.singular: Required value", "spec.names.kind: Required value",
      "spec.names.listKind: Required value"]),
    ("version-not-a-label", _set("spec.versions.0.name", "V1"),
     ['spec.versions[0].name: Invalid value: "V1": ' + DNS1035,
      'spec.version: Invalid value: "V1": ' + DNS1035]),
    ("no-storage-version", _set("spec.versions.0.storage", False),
     ["spec.versions: Invalid value: VERSIONS: must have exactly one version marked as "
      "storage version",
      "status.storedVersions: Invalid value: []: must have at least one stored version"]),
    ("two-storage-versions", lambda c: (_two_versions(c),
                                        c["spec"]["versions"][1].update(storage=True)),
     ["spec.versions: Invalid value: VERSIONS: must have exactly one version marked as "
      "storage version",
      'status.storedVersions: Invalid value: ["v1"]: must have the storage version v2']),
    ("duplicate-version-names", lambda c: (_two_versions(c),
                                           c["spec"]["versions"][1].update(name="v1")),
     ["spec.versions: Invalid value: VERSIONS: must contain unique version names"]),
    ("schema-missing", _set("spec.versions.0.schema", None),
     ["spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"]),
    ("deprecation-warning-without-deprecated", _set("spec.versions.0.deprecationWarning", "x"),
     ['spec.versions[0].deprecationWarning: Invalid value: "x": can only be set for '
      "deprecated versions"]),
    ("field-without-type", _schema(size={"minimum": 1}),
     [f"{SCHEMA}.properties[spec].properties[size].type: Required value: must not be empty "
      "for specified object fields"]),
    ("array-without-items", _schema(tags={"type": "array"}),
     [f"{SCHEMA}.properties[spec].properties[tags].items: Required value: must be specified"]),
    ("item-without-type", _schema(tags={"type": "array", "items": {"minLength": 1}}),
     [f"{SCHEMA}.properties[spec].properties[tags].items.type: Required value: must not be "
      "empty for specified array items"]),
    ("root-not-object", _root(type="string", properties=None),
     [f'{SCHEMA}.type: Invalid value: "string": only "object" is allowed as the type at the '
      "root of the schema if the status subresource is enabled",
      f'{SCHEMA}.type: Invalid value: "string": must be object at the root']),
    ("metadata-beyond-name", _root(properties={"metadata": {"type": "object", "properties": {
        "labels": {"type": "object"}}}}),
     [f"{SCHEMA}.properties[metadata]: Forbidden: must not specify anything other than name "
      "and generateName, but metadata is implicitly specified"]),
    ("metadata-name-pattern-allowed", _root(properties={"metadata": {"type": "object",
                                                                     "properties": {
        "name": {"type": "string", "maxLength": 40}}}}), []),
    ("type-inside-junctor", _schema(size={"type": "integer", "anyOf": [{"type": "integer"}]}),
     [f"{SCHEMA}.properties[spec].properties[size].anyOf[0].type: Forbidden: must be empty to "
      "be structural"]),
    ("junctor-field-not-specified", _root(allOf=[{"properties": {"other": {"minimum": 1}}}]),
     [f"{SCHEMA}: Invalid value: SCHEMA: only [Description Type Format Title Maximum "
      "ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems "
      "UniqueItems MultipleOf Required Items Properties ExternalDocs Example "
      "XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if "
      "the status subresource is enabled",
      f"{SCHEMA}.properties[other]: Required value: because it is defined in "
      f"{SCHEMA}.allOf[0].properties[other]"]),
    ("int-or-string-pattern", _schema(port={"x-kubernetes-int-or-string": True, "anyOf": [
        {"type": "integer"}, {"type": "string"}], "pattern": "^[0-9]+%?$"}), []),
    ("unique-items", _schema(tags={"type": "array", "items": {"type": "string"},
                                   "uniqueItems": True}),
     [f"{SCHEMA}.properties[spec].properties[tags].uniqueItems: Forbidden: uniqueItems cannot "
      "be set to true since the runtime complexity becomes quadratic"]),
    ("additional-properties-beside-properties", _schema(labels={
        "type": "object", "properties": {"a": {"type": "string"}},
        "additionalProperties": {"type": "string"}}),
     [f"{SCHEMA}.properties[spec].properties[labels].additionalProperties: Forbidden: "
      "additionalProperties and properties are mutual exclusive"]),
    ("ref", _schema(other={"type": "object", "$ref": "#/definitions/x"}),
     [f"{SCHEMA}.properties[spec].properties[other].$ref: Forbidden: $ref is not supported"]),
    ("type-not-openapi", _schema(size={"type": "int"}),
     [f'{SCHEMA}.properties[spec].properties[size].type: Unsupported value: "int": supported '
      'values: "array", "boolean", "integer", "number", "object", "string"']),
    ("preserve-unknown-false", _schema(extra={"type": "object",
                                              "x-kubernetes-preserve-unknown-fields": False}),
     [f"{SCHEMA}.properties[spec].properties[extra].x-kubernetes-preserve-unknown-fields: "
      "Invalid value: false: must be true or undefined"]),
    ("list-type-on-object", _schema(extra={"type": "object", "x-kubernetes-list-type": "set"}),
     [f'{SCHEMA}.properties[spec].properties[extra].type: Invalid value: "object": must be '
      "array if x-kubernetes-list-type is specified"]),
    ("set-of-granular-objects", _schema(items={
        "type": "array", "x-kubernetes-list-type": "set",
        "items": {"type": "object", "properties": {"a": {"type": "string"}}}}),
     [f'{SCHEMA}.properties[spec].properties[items].items.x-kubernetes-map-type: Invalid '
      # upstream shows the items' own (unset) list type here
      'value: null: must be atomic as item of a list with x-kubernetes-list-type=set']),
    ("map-list-without-keys", _schema(ports={
        "type": "array", "x-kubernetes-list-type": "map",
        "items": {"type": "object", "properties": {"port": {"type": "integer"}}}}),
     [f"{SCHEMA}.properties[spec].properties[ports].x-kubernetes-list-map-keys: Required "
      "value: must not be empty if x-kubernetes-list-type is map"]),
    ("map-list-key-not-a-property", _schema(ports={
        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["nm"],
        "items": {"type": "object", "properties": {"port": {"type": "integer"}}}}),
     [f'{SCHEMA}.properties[spec].properties[ports].x-kubernetes-list-map-keys: Invalid value: '
      '["nm"]: entries must all be names of item properties']),
    ("map-list-key-optional", _schema(ports={
        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port"],
        "items": {"type": "object", "properties": {"port": {"type": "integer"}}}}),
     [f"{SCHEMA}.properties[spec].properties[ports].items.properties[port].default: Required "
      "value: this property is in x-kubernetes-list-map-keys, so it must have a default or be "
      "a required property"]),
    ("default-in-top-level-metadata", _root(properties={"metadata": {
        "type": "object", "properties": {"name": {"type": "string", "default": "x"}}}}),
     [f"{SCHEMA}.properties[metadata].properties[name].default: Forbidden: must not be set in "
      "top-level metadata"]),
    ("default-of-wrong-type", _schema(replicas={"type": "integer", "default": "one"}),
     [f'{SCHEMA}.properties[spec].properties[replicas].default: Invalid value: "string": '
      f"{SCHEMA}.properties[spec].properties[replicas].default in body must be of type "
      'integer: "string"']),
    ("default-not-pruned", _schema(opts={"type": "object", "default": {"a": 1},
                                         "properties": {"b": {"type": "integer"}}}),
     [f'{SCHEMA}.properties[spec].properties[opts].default: Invalid value: {{"a":1}}: must not '
      "have unknown fields"]),
    ("pattern-not-re2", _schema(name={"type": "string", "pattern": "^(?!x)"}),
     [f'{SCHEMA}.properties[spec].properties[name].pattern: Invalid value: "^(?!x)": must be a '
      "valid regular expression, but isn't: error parsing regexp: invalid or unsupported Perl "
      "syntax: `(?!`"]),
    ("cel-rule-empty", _schema(size={"type": "integer", "x-kubernetes-validations": [
        {"rule": " "}]}),
     [f"{SCHEMA}.properties[spec].properties[size].x-kubernetes-validations[0].rule: Required "
      "value: rule is not specified"]),
    ("status-root-only-listed-fields", _root(minProperties=1),
     [f"{SCHEMA}: Invalid value: SCHEMA: only [Description Type Format Title Maximum "
      "ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems "
      "UniqueItems MultipleOf Required Items Properties ExternalDocs Example "
      "XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if "
      "the status subresource is enabled"]),
    ("schemas-differ-per-version", _second_version_schema_differs,
     ["spec.versions[1].schema.openAPIV3Schema.properties[spec].properties[size].type: "
      "Required value: must not be empty for specified object fields"]),
    ("scale-path-not-dotted", _set("spec.versions.0.subresources.scale.specReplicasPath",
                                   "spec.replicas"),
     ['spec.subresources.scale.specReplicasPath: Invalid value: "spec.replicas": must be a '
      "simple json path starting with ."]),
    ("scale-path-outside-spec", _set("spec.versions.0.subresources.scale.specReplicasPath",
                                     ".status.replicas"),
     ['spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be '
      "a json path under .spec"]),
    ("column-type-unknown", _set("spec.versions.0.additionalPrinterColumns.0.type", "int"),
     ['spec.additionalPrinterColumns[0].type: Invalid value: "int": must be one of '
      "boolean,date,integer,number,string"]),
    ("column-without-json-path", _set("spec.versions.0.additionalPrinterColumns.0.jsonPath",
                                      None),
     ["spec.additionalPrinterColumns[0].JSONPath: Required value"]),
    ("selectable-field-object", _set("spec.versions.0.selectableFields",
                                     [{"jsonPath": ".spec"}]),
     ['spec.selectableFields[0].jsonPath: Invalid value: ".spec": must point to a field of '
      "type string, boolean or integer. Enum string fields and strings with formats are "
      "allowed."]),
    ("selectable-field-unknown", _set("spec.versions.0.selectableFields",
                                      [{"jsonPath": ".spec.size"}]),
     ['spec.selectableFields[0].jsonPath: Invalid value: ".spec.size": is an invalid path: '
      "does not refer to a valid field"]),
    ("webhook-conversion-without-webhook", _set("spec.conversion", {"strategy": "Webhook"}),
     ["spec.conversion.webhookClientConfig: Required value: required when strategy is set to "
      "Webhook", "spec.conversion.conversionReviewVersions: Required value"]),
    ("webhook-over-http", _webhook(clientConfig={"url": "http://conv.example.com/x"},
                                   conversionReviewVersions=["v1"]),
     ['spec.conversion.webhookClientConfig.url: Invalid value: "http": \'https\' is the only '
      "allowed URL scheme; desired format: https://host[/path]"]),
    ("webhook-service-port", _webhook(clientConfig={"service": {
        "namespace": "ns", "name": "conv", "port": 0}}, conversionReviewVersions=["v1"]),
     ["spec.conversion.webhookClientConfig.service.port: Invalid value: 0: port is not valid: "
      "must be between 1 and 65535, inclusive"]),
    ("webhook-unknown-review-version", _webhook(clientConfig={"url": "https://c.example.com"},
                                                conversionReviewVersions=["v2"]),
     ['spec.conversion.conversionReviewVersions: Invalid value: ["v2"]: must include at least '
      "one of v1, v1beta1"]),
    ("none-conversion-with-webhook", _set("spec.conversion", {
        "strategy": "None", "webhook": {"clientConfig": {"url": "https://c.example.com"}}}),
     ["spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not "
      "set to Webhook"]),
    ("conversion-without-strategy", _set("spec.conversion", {}),
     ["spec.conversion.strategy: Required value"]),
    ("generated-name", _set("metadata", {"generateName": "widgets-", "name": "widgets-x7k2q"}),
     ['metadata.generateName: Invalid value: "widgets-": must be spec.names.plural+"."+'
      "spec.group",
      'metadata.name: Invalid value: "widgets-x7k2q": must be spec.names.plural+"."+'
      "spec.group"]),
    ("conversion-strategy-unknown", _set("spec.conversion", {"strategy": "Magic"}),
     ['spec.conversion.strategy: Unsupported value: "Magic": supported values: "None", '
      '"Webhook"']),
    ("preserve-unknown-fields-true", _set("spec.preserveUnknownFields", True),
     ["spec.preserveUnknownFields: Invalid value: true: must be false in order to use defaults "
      "in the schema",
      "spec.preserveUnknownFields: Invalid value: true: cannot set to true, set "
      "x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead"]),
    ("protected-group-unapproved", lambda c: (c["spec"].update(group="widgets.k8s.io"),
                                              c["metadata"].update(name="widgets.widgets.k8s.io")),
     ['metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must '
      'have approval annotation "api-approved.kubernetes.io", see '
      "https://github.com/kubernetes/enhancements/pull/1111"]),
    ("protected-group-approved", lambda c: (
        c["spec"].update(group="widgets.k8s.io"),
        c["metadata"].update(name="widgets.widgets.k8s.io", annotations={
            "api-approved.kubernetes.io": "https://github.com/kubernetes/kubernetes/pull/1"})),
     []),
    ("wrong-json-types", lambda c: c["spec"].update(versions="v1", names=[]),
     ['metadata.name: Invalid value: "widgets.example.com": must be '
      'spec.names.plural+"."+spec.group',
      "spec.versions: Invalid value: []: must have exactly one version marked as storage "
      "version",
      "spec.names.plural: Required value", "spec.names.singular: Required value",
      "spec.names.kind: Required value", "spec.names.listKind: Required value",
      "status.storedVersions: Invalid value: []: must have at least one stored version"]),
]


def _abbreviated(crd: dict[str, Any], causes: list[str]) -> list[str]:
    """Causes with the long values spelled VERSIONS and SCHEMA (the whole list and root)."""
    versions = crd["spec"].get("versions")
    if not isinstance(versions, list) or not versions:
        return causes
    out = [c.replace(render_value(versions), "VERSIONS") for c in causes]
    schema = versions[0].get("schema", {}).get("openAPIV3Schema")
    return [c.replace(render_value(schema), "SCHEMA") for c in out] if schema else out


@pytest.mark.parametrize("mutate,want", [(m, w) for _, m, w in CASES],
                         ids=[name for name, _, _ in CASES])
def test_validate_reports_upstreams_field_and_message(mutate: Mutation, want: list[str]) -> None:
    crd = widget_crd()
    mutate(crd)
    assert _abbreviated(crd, causes_of(crd)) == want


@pytest.mark.parametrize("keyword,value,want", [
    ("maxLength", "5", "json: cannot unmarshal string into Go struct field "
     "JSONSchemaProps.spec.versions.schema.openAPIV3Schema.properties.properties.maxLength of "
     "type int64"),
    ("required", True, "json: cannot unmarshal bool into Go struct field "
     "JSONSchemaProps.spec.versions.schema.openAPIV3Schema.properties.properties.required of "
     "type []string"),
    ("items", "string", "json: cannot unmarshal string into Go struct field "
     "JSONSchemaProps.spec.versions.schema.openAPIV3Schema.properties.properties.items of "
     "type v1.JSONSchemaProps"),
], ids=["int-keyword", "string-list-keyword", "schema-keyword"])
def test_schema_keyword_of_the_wrong_type_is_a_decode_error(keyword: str, value: Any,
                                                           want: str) -> None:
    crd = widget_crd()
    spec_prop(crd)["color"][keyword] = value
    with pytest.raises(BadRequest) as caught:
        created(crd)
    assert caught.value.message == (
        'CustomResourceDefinition in version "v1" cannot be handled as a '
        f"CustomResourceDefinition: {want}")


def test_fractionless_float_is_an_integer_keyword() -> None:
    crd = widget_crd()
    spec_prop(crd)["color"]["maxLength"] = 5.0  # YAML/JSON clients may send 5.0
    assert causes_of(crd) == []
