"""CRDs shaped like those real operators install must pass validation unchanged."""

import textwrap

import pytest
import yaml

from .test_apiextensions import CRD, created

CERT_MANAGER_CERTIFICATE = textwrap.dedent("""\
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: certificates.cert-manager.io
      labels: {app: cert-manager, app.kubernetes.io/name: cert-manager}
    spec:
      group: cert-manager.io
      names:
        kind: Certificate
        listKind: CertificateList
        plural: certificates
        shortNames: [cert, certs]
        singular: certificate
        categories: [cert-manager]
      scope: Namespaced
      versions:
      - name: v1
        served: true
        storage: true
        subresources: {status: {}}
        additionalPrinterColumns:
        - {jsonPath: '.status.conditions[?(@.type=="Ready")].status', name: Ready, type: string}
        - {jsonPath: .spec.secretName, name: Secret, type: string}
        - {jsonPath: .spec.issuerRef.name, name: Issuer, priority: 1, type: string}
        - {jsonPath: '.status.conditions[?(@.type=="Ready")].message', name: Status,
           priority: 1, type: string}
        - {description: CreationTimestamp is a timestamp, jsonPath: .metadata.creationTimestamp,
           name: Age, type: date}
        schema:
          openAPIV3Schema:
            description: A Certificate resource should be created to ensure an up to date
              and signed X.509 certificate is stored in the Kubernetes Secret resource.
            type: object
            required: [spec]
            properties:
              apiVersion: {type: string, description: APIVersion defines the schema.}
              kind: {type: string, description: Kind is a string value.}
              metadata: {type: object}
              spec:
                type: object
                required: [issuerRef, secretName]
                properties:
                  commonName: {type: string}
                  dnsNames: {type: array, items: {type: string}}
                  duration: {type: string}
                  renewBefore: {type: string}
                  revisionHistoryLimit: {type: integer, format: int32}
                  isCA: {type: boolean}
                  usages:
                    type: array
                    items:
                      type: string
                      enum: [signing, digital signature, server auth, client auth]
                  issuerRef:
                    type: object
                    required: [name]
                    properties:
                      group: {type: string}
                      kind: {type: string}
                      name: {type: string}
                  privateKey:
                    type: object
                    properties:
                      algorithm: {type: string, enum: [RSA, ECDSA, Ed25519]}
                      encoding: {type: string, enum: [PKCS1, PKCS8]}
                      rotationPolicy: {type: string, enum: [Never, Always]}
                      size: {type: integer}
                  secretName: {type: string}
                  secretTemplate:
                    type: object
                    properties:
                      annotations:
                        type: object
                        additionalProperties: {type: string}
                      labels:
                        type: object
                        additionalProperties: {type: string}
                  keystores:
                    type: object
                    properties:
                      pkcs12:
                        type: object
                        required: [create, passwordSecretRef]
                        properties:
                          create: {type: boolean}
                          passwordSecretRef:
                            type: object
                            required: [name]
                            properties:
                              key: {type: string}
                              name: {type: string}
                  subject:
                    type: object
                    properties:
                      organizations: {type: array, items: {type: string}}
                      serialNumber: {type: string}
              status:
                type: object
                properties:
                  conditions:
                    type: array
                    items:
                      type: object
                      required: [status, type]
                      properties:
                        lastTransitionTime: {type: string, format: date-time}
                        message: {type: string}
                        observedGeneration: {type: integer, format: int64}
                        reason: {type: string}
                        status: {type: string, enum: ['True', 'False', Unknown]}
                        type: {type: string}
                    x-kubernetes-list-map-keys: [type]
                    x-kubernetes-list-type: map
                  notAfter: {type: string, format: date-time}
                  revision: {type: integer}
    """)

KOPF_EXAMPLE = textwrap.dedent("""\
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: kopfexamples.kopf.dev
    spec:
      scope: Namespaced
      group: kopf.dev
      names:
        kind: KopfExample
        plural: kopfexamples
        singular: kopfexample
        shortNames: [kopfexes, kopfex, kexes, kex]
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
                  x-kubernetes-preserve-unknown-fields: true
                status:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
          additionalPrinterColumns:
            - {name: Duration, type: string, priority: 0, jsonPath: .spec.duration,
               description: For how long the pod should sleep.}
            - {name: Children, type: string, priority: 0, jsonPath: .status.create_fn.children,
               description: The children pods created.}
            - {name: Message, type: string, priority: 0, jsonPath: .status.create_fn.message,
               description: As returned from the handler (sometimes).}
    """)

KUBEBUILDER_WORKLOAD = textwrap.dedent("""\
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: workers.batch.example.io
      annotations: {controller-gen.kubebuilder.io/version: v0.16.1}
    spec:
      group: batch.example.io
      names: {kind: Worker, listKind: WorkerList, plural: workers, singular: worker}
      scope: Namespaced
      conversion:
        strategy: Webhook
        webhook:
          clientConfig:
            service: {name: webhook-service, namespace: system, path: /convert}
          conversionReviewVersions: [v1]
      versions:
      - name: v1alpha1
        served: true
        storage: false
        deprecated: true
        deprecationWarning: batch.example.io/v1alpha1 Worker is deprecated; use v1
        schema:
          openAPIV3Schema:
            type: object
            properties:
              spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
      - name: v1
        served: true
        storage: true
        subresources:
          status: {}
          scale:
            specReplicasPath: .spec.replicas
            statusReplicasPath: .status.replicas
            labelSelectorPath: .status.selector
        selectableFields:
        - jsonPath: .spec.tier
        schema:
          openAPIV3Schema:
            type: object
            properties:
              apiVersion: {type: string}
              kind: {type: string}
              metadata: {type: object}
              spec:
                type: object
                x-kubernetes-validations:
                - rule: self.minReplicas <= self.replicas
                  message: replicas must not be below minReplicas
                properties:
                  replicas: {type: integer, format: int32, default: 1, minimum: 0}
                  minReplicas: {type: integer, format: int32, default: 0}
                  tier: {type: string, enum: [gold, silver], default: silver}
                  maxUnavailable:
                    anyOf: [{type: integer}, {type: string}]
                    x-kubernetes-int-or-string: true
                  resources:
                    type: object
                    properties:
                      limits:
                        type: object
                        additionalProperties:
                          anyOf: [{type: integer}, {type: string}]
                          pattern: ^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$
                          x-kubernetes-int-or-string: true
                  template:
                    type: object
                    x-kubernetes-embedded-resource: true
                    x-kubernetes-preserve-unknown-fields: true
                  podTemplate:
                    type: object
                    properties:
                      metadata:
                        type: object
                        properties:
                          labels: {type: object, additionalProperties: {type: string}}
                      spec:
                        type: object
                        properties:
                          ports:
                            type: array
                            items:
                              type: object
                              required: [containerPort]
                              properties:
                                containerPort: {type: integer, format: int32}
                                protocol: {type: string, default: TCP}
                            x-kubernetes-list-map-keys: [containerPort, protocol]
                            x-kubernetes-list-type: map
                          tolerations:
                            type: array
                            items: {type: string}
                            x-kubernetes-list-type: set
                          extra:
                            x-kubernetes-preserve-unknown-fields: true
                            nullable: true
              status:
                type: object
                properties:
                  replicas: {type: integer, format: int32}
                  selector: {type: string}
    """)


@pytest.mark.parametrize("manifest", [CERT_MANAGER_CERTIFICATE, KOPF_EXAMPLE,
                                      KUBEBUILDER_WORKLOAD],
                         ids=["cert-manager-certificate", "kopf-example", "kubebuilder-workload"])
def test_operator_crds_pass(manifest: str) -> None:
    crd = created(yaml.safe_load(manifest))
    assert [f"{c.field}: {c.message}" for c in CRD.validate(crd)] == []
