"""The loops' names, as upstream's --controllers names them, in the order the manager
builds them: importable without importing the loops, so the command line can offer them
(`kubelite server --disable replicaset`) without loading the client."""

from __future__ import annotations

LOOP_NAMES = ("garbagecollector", "deployment", "daemonset", "replicaset", "replicationcontroller",
              "statefulset", "serviceaccount", "job", "cronjob", "ttl-after-finished",
              "endpoint", "endpointslice", "namespace", "disruption", "pod-garbage-collector",
              "persistentvolume-binder", "local-path-provisioner", "resourcequota",
              "nodeipam", "nodelifecycle", "taint-eviction-controller", "endpointslicemirroring",
              "horizontalpodautoscaling", "root-ca-cert-publisher", "clusterrole-aggregation",
              "tokencleaner", "bootstrapsigner", "csrsigning", "csrapproving", "csrcleaner")
GC_LOOP = "garbagecollector"  # the API server adds deletion finalizers only when it runs
