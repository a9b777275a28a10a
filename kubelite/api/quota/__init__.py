"""Resource quota arithmetic and evaluators, shared by the API server's admission and
the resourcequota control loop (k8s.io/apiserver/pkg/quota/v1 and
pkg/quota/v1/evaluator/core upstream). Pure: objects in, resource lists out.

| module | holds |
|---|---|
| resources.py | ResourceList (name -> Quantity) arithmetic and printing |
| pod_resources.py | a pod's total requests and limits (init containers, sidecars, overhead) |
| evaluator.py | the Evaluator protocol, quota scopes, whether a quota applies, summed usage |
| pods.py | what a pod costs, and its scopes |
| evaluators.py | services, claims, object counts, and `evaluator_for(group, plural)` |
"""
