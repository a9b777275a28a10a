"""Reading a KubeSchedulerConfiguration: defaults, profiles built from it, and every
mistake reported with upstream's words (its scheme_test.go, validation_test.go and
validation_pluginargs_test.go cases, where they have a kubelite counterpart)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.scheduler.conftest import UPSTREAM_SCORE, present

from kubelite.scheduler import config
from kubelite.scheduler.config import InvalidConfiguration
from kubelite.scheduler.plugins.balanced_allocation import NodeResourcesBalancedAllocation
from kubelite.scheduler.plugins.node_affinity import NodeAffinity
from kubelite.scheduler.plugins.node_resources_fit import NodeResourcesFit
from kubelite.scheduler.schedule_one import Profile

HEAD = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"


def names_at(profile: Profile, method: str) -> list[str]:
    return [p.name for p in profile.at(method)]


def plugin(profile: Profile, name: str) -> object:
    [found] = [p for p in profile.plugins if p.name == name]
    return found


def test_an_empty_file_gets_upstreams_defaults() -> None:
    loaded = config.load(HEAD)
    assert (loaded.percentage_of_nodes_to_score, loaded.pod_initial_backoff_seconds,
            loaded.pod_max_backoff_seconds, loaded.parallelism) == (0, 1, 10, 16)
    election = loaded.leader_election
    assert (election.leader_elect, election.lease_duration, election.renew_deadline,
            election.retry_period, election.resource_lock, election.resource_name,
            election.resource_namespace) == (True, 15.0, 10.0, 2.0, "leases", "kube-scheduler",
                                             "kube-system")
    [profile] = loaded.profiles
    default = Profile.default()
    assert profile.scheduler_name == "default-scheduler"
    assert profile.weights == default.weights
    for method in ("pre_filter", "filter", "pre_score", "score", "pre_enqueue", "less"):
        assert names_at(profile, method) == names_at(default, method), method


def test_json_is_read_as_well() -> None:
    loaded = config.load('{"apiVersion": "kubescheduler.config.k8s.io/v1", '
                         '"kind": "KubeSchedulerConfiguration", "percentageOfNodesToScore": 30}')
    assert loaded.profiles[0].percentage_of_nodes_to_score == 30


def test_profile_percentage_overrides_the_global_one() -> None:
    loaded = config.load(HEAD + """percentageOfNodesToScore: 10
profiles:
- schedulerName: a
- schedulerName: b
  percentageOfNodesToScore: 20
""")
    assert [(p.scheduler_name, p.percentage_of_nodes_to_score) for p in loaded.profiles] == [
        ("a", 10), ("b", 20)]


def test_two_profiles_with_their_own_plugins_weights_and_args() -> None:
    loaded = config.load(HEAD + """profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packing
  plugins:
    score:
      disabled: [{name: NodeResourcesBalancedAllocation}]
      enabled: [{name: NodeResourcesFit, weight: 5}]
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources: [{name: cpu, weight: 2}, {name: memory}]
""")
    default, packing = loaded.profiles
    assert packing.scheduler_name == "bin-packing"
    assert names_at(packing, "score") == present(
        UPSTREAM_SCORE, first=("NodeResourcesFit",), without=("NodeResourcesBalancedAllocation",))
    assert packing.weights["NodeResourcesFit"] == 5
    fit = plugin(packing, "NodeResourcesFit")
    assert isinstance(fit, NodeResourcesFit)
    assert (fit.strategy.type, fit.strategy.resources) == ("MostAllocated", (("cpu", 2), ("memory", 1)))
    default_fit = plugin(default, "NodeResourcesFit")
    assert isinstance(default_fit, NodeResourcesFit) and default_fit.strategy.type == "LeastAllocated"
    # one instance per plugin per profile, at every point it runs
    assert [p for p in packing.at("filter") if p.name == fit.name] == [fit]
    assert [p for p in packing.at("pre_filter") if p.name == fit.name] == [fit]


def test_plugin_args_are_defaulted_as_upstream() -> None:
    loaded = config.load(HEAD + """profiles:
- pluginConfig:
  - name: NodeResourcesBalancedAllocation
    args:
      resources: [{name: cpu}, {name: memory, weight: 0}, {name: ephemeral-storage}]
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: RequestedToCapacityRatio
        requestedToCapacityRatio:
          shape: [{utilization: 0, score: 0}, {utilization: 100, score: 10}]
  - name: NodeAffinity
    args:
      addedAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms:
          - matchExpressions: [{key: zone, operator: In, values: [a]}]
""")
    [profile] = loaded.profiles
    balanced = plugin(profile, "NodeResourcesBalancedAllocation")
    assert isinstance(balanced, NodeResourcesBalancedAllocation)
    assert balanced.resources == ("cpu", "memory", "ephemeral-storage")
    fit = plugin(profile, "NodeResourcesFit")
    assert isinstance(fit, NodeResourcesFit)
    assert fit.strategy.resources == (("cpu", 1), ("memory", 1))
    assert fit.strategy.shape == ((0, 0), (100, 10))
    affinity = plugin(profile, "NodeAffinity")
    assert isinstance(affinity, NodeAffinity) and affinity.added_required is not None


def test_leader_election_and_client_connection_are_read() -> None:
    loaded = config.load(HEAD + """leaderElection:
  leaderElect: false
  leaseDuration: 1m
  resourceName: sched
clientConnection:
  kubeconfig: /etc/kubeconfig
""")
    election = loaded.leader_election
    assert (election.leader_elect, election.lease_duration, election.resource_name) == (
        False, 60.0, "sched")
    assert loaded.kubeconfig == "/etc/kubeconfig"


INVALID = [
    ("not-yaml", "a: [", None),
    ("no-api-version", "kind: KubeSchedulerConfiguration\n", ["Object 'apiVersion' is missing"]),
    ("old-version", "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n",
     ['no kind "KubeSchedulerConfiguration" is registered for version '
      '"kubescheduler.config.k8s.io/v1beta3" (kubelite reads KubeSchedulerConfiguration of '
      'kubescheduler.config.k8s.io/v1)']),
    ("wrong-kind", "apiVersion: kubescheduler.config.k8s.io/v1\nkind: Pod\n",
     ['no kind "Pod" is registered for version "kubescheduler.config.k8s.io/v1" '
      "(kubelite reads KubeSchedulerConfiguration of kubescheduler.config.k8s.io/v1)"]),
    ("duplicate-key", HEAD + "parallelism: 1\nparallelism: 2\n", None),
    ("unknown-fields", HEAD + "foo: 1\nprofiles:\n- schedulerName: a\n  bar: {}\n",
     ['strict decoding error: unknown field "foo", unknown field "profiles[0].bar"']),
    ("wrong-type", HEAD + "profiles:\n- percentageOfNodesToScore: lots\n",
     ["json: cannot unmarshal string into Go struct field KubeSchedulerProfile."
      "profiles.percentageOfNodesToScore of type int32"]),
    ("weight-out-of-int32", HEAD + """profiles:
- plugins:
    score:
      enabled: [{name: ImageLocality, weight: 3000000000}]
""", ["json: cannot unmarshal number 3000000000 into Go struct field Plugin."
      "profiles.plugins.score.enabled.weight of type int32"]),
    ("percentages-and-backoff", HEAD + """percentageOfNodesToScore: 101
podInitialBackoffSeconds: 0
podMaxBackoffSeconds: -1
parallelism: 0
profiles:
- schedulerName: a
  percentageOfNodesToScore: -1
""", ["parallelism: Invalid value: 0: should be an integer value greater than zero",
      "percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]",
      "podInitialBackoffSeconds: Invalid value: 0: must be greater than 0",
      "podMaxBackoffSeconds: Invalid value: -1: must be greater than or equal to "
      "PodInitialBackoffSeconds",
      "profiles[0].percentageOfNodesToScore: Invalid value: -1: not in valid range [0-100]"]),
    ("scheduler-names", HEAD + """profiles:
- schedulerName: a
- {}
- schedulerName: a
""", ["profiles[1].schedulerName: Required value",
      'profiles[2].schedulerName: Duplicate value: "profiles[0].schedulerName"']),
    ("queue-sort-differs", HEAD + """profiles:
- schedulerName: a
- schedulerName: b
  plugins:
    queueSort:
      enabled: [{name: PrioritySort}]
      disabled: [{name: "*"}]
""", ['profiles[1].plugins.queueSort: Invalid value: {"enabled":[{"name":"PrioritySort"}],'
      '"disabled":[{"name":"*"}]}: must be the same for all profiles']),
    ("leader-election", HEAD + """leaderElection:
  leaseDuration: 0s
  renewDeadline: 10s
  resourceLock: endpoints
""", ["leaderElection.leaseDuration: Invalid value: 0s: must be greater than zero",
      "leaderElection.leaseDuration: Invalid value: 10s: LeaseDuration must be greater than "
      "RenewDeadline",
      'leaderElection.resourceLock: Invalid value: "endpoints": resourceLock value must be "leases"']),
    ("plugin-names", HEAD + """profiles:
- plugins:
    filter:
      enabled: [{name: EBSLimits}, {name: VolumeZone}, {name: NoSuchPlugin}]
""", ['profiles[0].plugins.filter.enabled[0]: Invalid value: "EBSLimits": was invalid in '
      'version "kubescheduler.config.k8s.io/v1" (KubeSchedulerConfiguration is version '
      '"kubescheduler.config.k8s.io/v1")',
      'profiles[0].plugins.filter.enabled[1]: Invalid value: "VolumeZone": plugin '
      '"VolumeZone" is not supported by kubelite yet',
      'profiles[0].plugins.filter.enabled[2]: Invalid value: "NoSuchPlugin": plugin '
      '"NoSuchPlugin" does not exist']),
    ("plugin-at-a-point-it-lacks", HEAD + """profiles:
- plugins:
    score:
      enabled: [{name: NodeName}]
""", ['creating profile for scheduler name default-scheduler: plugin "NodeName" does not '
      "extend ScorePlugin plugin"]),
    ("extenders", HEAD + "extenders: [{urlPrefix: 'http://x'}]\n",
     ["extenders: Forbidden: scheduler extenders are not supported by kubelite"]),
    ("plugin-config", HEAD + """profiles:
- pluginConfig:
  - name: NodeName
    args: {foo: 1}
  - name: NodeName
  - name: NodeResourcesFit
    args: {apiVersion: kubescheduler.config.k8s.io/v1, kind: NodeAffinityArgs}
""", ['profiles[0].pluginConfig[0].args: Invalid value: {"foo":1}: plugin "NodeName" takes no args',
      'profiles[0].pluginConfig[1]: Duplicate value: "NodeName"',
      "decoding .profiles[0].pluginConfig[2]: args for plugin NodeResourcesFit were not of type "
      "NodeResourcesFitArgs.kubescheduler.config.k8s.io, got "
      "NodeAffinityArgs.kubescheduler.config.k8s.io"]),
    ("fit-args-strict", HEAD + """profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        requestedToCapacityRatio:
          shape:
          - Score: 2
            Utilization: 1
""", ["strict decoding error: decoding .profiles[0].pluginConfig[0]: strict decoding error: "
      "decoding args for plugin NodeResourcesFit: strict decoding error: unknown field "
      '"scoringStrategy.requestedToCapacityRatio.shape[0].Score", unknown field '
      '"scoringStrategy.requestedToCapacityRatio.shape[0].Utilization"']),
    ("fit-args-invalid", HEAD + """profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      ignoredResources: ["-bad"]
      ignoredResourceGroups: ["example.com/aaa"]
      scoringStrategy:
        type: Invalid
        resources: [{name: cpu, weight: 101}, {name: nvidia.com/gpu}]
        requestedToCapacityRatio: {shape: []}
""", ['profiles[0].pluginConfig[0].args.ignoredResources[0]: Invalid value: "-bad": name part '
      "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
      "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
      "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      'profiles[0].pluginConfig[0].args.ignoredResourceGroups[0]: Invalid value: '
      '"example.com/aaa": resource group name can\'t contain \'/\'',
      'profiles[0].pluginConfig[0].args.scoringStrategy.type: Unsupported value: "Invalid": '
      'supported values: "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"',
      "profiles[0].pluginConfig[0].args.scoringStrategy.resources[0].weight: Invalid value: "
      "101: resource weight of cpu not in valid range (0, 100]",
      "profiles[0].pluginConfig[0].args.scoringStrategy.requestedToCapacityRatio: Forbidden: "
      "must be nil when type is not RequestedToCapacityRatio"]),
    ("fit-args-shape", HEAD + """profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: RequestedToCapacityRatio
        requestedToCapacityRatio:
          shape: [{utilization: 50, score: 11}, {utilization: 10, score: 1}, {utilization: 101}]
""", ["profiles[0].pluginConfig[0].args.scoringStrategy.requestedToCapacityRatio.shape[1]."
      "utilization: Invalid value: 10: values must be sorted in increasing order",
      "profiles[0].pluginConfig[0].args.scoringStrategy.requestedToCapacityRatio.shape[0].score:"
      " Invalid value: 11: not in valid range [0, 10]",
      "profiles[0].pluginConfig[0].args.scoringStrategy.requestedToCapacityRatio.shape[2]."
      "utilization: Invalid value: 101: not in valid range [0, 100]"]),
    ("balanced-args", HEAD + """profiles:
- pluginConfig:
  - name: NodeResourcesBalancedAllocation
    args:
      resources: [{name: cpu, weight: 2}, {name: cpu}]
""", ["profiles[0].pluginConfig[0].args.resources[0].weight: Invalid value: 2: must be 1",
      'profiles[0].pluginConfig[0].args.resources[1].name: Duplicate value: "cpu"']),
    ("node-affinity-args", HEAD + """profiles:
- pluginConfig:
  - name: NodeAffinity
    args:
      addedAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms:
          - matchExpressions: [{key: a, operator: Foo}, {key: b, operator: Gt, values: [x]}]
            matchFields: [{key: metadata.name, operator: In, values: [a, b]}]
        preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 1
          preference:
            matchExpressions: [{key: c, operator: Exists, values: [x]}]
""", ["profiles[0].pluginConfig[0].args.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution"
      '.nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: "Foo"',
      "profiles[0].pluginConfig[0].args.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution"
      ".nodeSelectorTerms[0].matchExpressions[1].values[0]: Invalid value: \"x\": for 'Gt', 'Lt' "
      "operators, the value must be an integer",
      "profiles[0].pluginConfig[0].args.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution"
      '.nodeSelectorTerms[0].matchFields[0].values: Invalid value: []string{"a", "b"}: must have '
      "one element",
      "profiles[0].pluginConfig[0].args.addedAffinity.preferredDuringSchedulingIgnoredDuringExecution"
      '[0].preference.matchExpressions[0].values: Invalid value: []string{"x"}: values set must be '
      "empty for exists and does not exist"]),
]


@pytest.mark.parametrize(("text", "want"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_mistakes_are_all_reported_with_upstreams_words(text: str, want: list[str] | None) -> None:
    with pytest.raises(InvalidConfiguration) as caught:
        config.load(text)
    if want is None:  # the YAML parser's own words
        assert len(caught.value.messages) == 1 and caught.value.messages[0].startswith("yaml: ")
    else:
        assert caught.value.messages == want


def test_load_file_names_the_file_and_lists_one_error_a_line(tmp_path: Path) -> None:
    path = tmp_path / "sched.yaml"
    path.write_text(HEAD + "profiles:\n- schedulerName: a\n- schedulerName: ''\n")
    with pytest.raises(InvalidConfiguration) as caught:
        config.load_file(path)
    assert caught.value.report() == (f"invalid KubeSchedulerConfiguration {path}: 1 error\n"
                                     "  profiles[1].schedulerName: Required value")
    with pytest.raises(InvalidConfiguration, match="No such file"):
        config.load_file(tmp_path / "missing.yaml")


def test_plugins_are_listed_in_multi_point_order() -> None:
    [profile] = config.load(HEAD).profiles
    assert [p.name for p in profile.plugins] == [p.name for p in Profile.default().plugins]
