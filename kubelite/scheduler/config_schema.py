"""The Go types of `kubescheduler.config.k8s.io/v1` KubeSchedulerConfiguration, by their
JSON names (staging/src/k8s.io/kube-scheduler/config/v1/types.go and component-base's
config/v1alpha1), for the strict decoder in config_decode.py. Plugin args are "raw" here:
each plugin decodes its own (its `from_args`)."""

from __future__ import annotations

from kubelite.scheduler.config_decode import ListOf, Struct
from kubelite.scheduler.config_plugins import PLUGIN_SET_FIELDS

API_GROUP = "kubescheduler.config.k8s.io"
API_VERSION = f"{API_GROUP}/v1"
KIND = "KubeSchedulerConfiguration"

PLUGIN = Struct("v1.Plugin", {"name": "string", "weight": "int32"})
PLUGIN_SET = Struct("v1.PluginSet", {"enabled": ListOf(PLUGIN), "disabled": ListOf(PLUGIN)})
PLUGINS = Struct("v1.Plugins", {name: PLUGIN_SET for name in PLUGIN_SET_FIELDS})
PLUGIN_CONFIG = Struct("v1.PluginConfig", {"name": "string", "args": "raw"})
PROFILE = Struct("v1.KubeSchedulerProfile", {
    "schedulerName": "string",
    "percentageOfNodesToScore": "int32",
    "plugins": PLUGINS,
    "pluginConfig": ListOf(PLUGIN_CONFIG),
})
LEADER_ELECTION = Struct("v1alpha1.LeaderElectionConfiguration", {
    "leaderElect": "bool",
    "leaseDuration": "duration",
    "renewDeadline": "duration",
    "retryPeriod": "duration",
    "resourceLock": "string",
    "resourceName": "string",
    "resourceNamespace": "string",
})
CLIENT_CONNECTION = Struct("v1alpha1.ClientConnectionConfiguration", {
    "kubeconfig": "string",
    "acceptContentTypes": "string",
    "contentType": "string",
    "qps": "float64",
    "burst": "int32",
})
EXTENDER = Struct("v1.Extender", {
    "urlPrefix": "string", "filterVerb": "string", "preemptVerb": "string",
    "prioritizeVerb": "string", "weight": "int64", "bindVerb": "string",
    "enableHTTPS": "bool",
    "tlsConfig": Struct("v1.ExtenderTLSConfig", {
        "insecure": "bool", "serverName": "string", "certFile": "string", "keyFile": "string",
        "caFile": "string", "certData": "string", "keyData": "string", "caData": "string"}),
    "httpTimeout": "duration", "nodeCacheCapable": "bool",
    "managedResources": ListOf(Struct("v1.ExtenderManagedResource", {
        "name": "string", "ignoredByScheduler": "bool"})),
    "ignorable": "bool",
})
CONFIGURATION = Struct("v1.KubeSchedulerConfiguration", {
    "apiVersion": "string",
    "kind": "string",
    "parallelism": "int32",
    "leaderElection": LEADER_ELECTION,
    "clientConnection": CLIENT_CONNECTION,
    "enableProfiling": "bool",  # component-base's DebuggingConfiguration, inlined
    "enableContentionProfiling": "bool",
    "percentageOfNodesToScore": "int32",
    "podInitialBackoffSeconds": "int64",
    "podMaxBackoffSeconds": "int64",
    "profiles": ListOf(PROFILE),
    "extenders": ListOf(EXTENDER),
    "delayCacheUntilActive": "bool",
})
