"""The Node authorizer: what a kubelet (`system:node:<name>` in `system:nodes`) may
read and write, limited to the objects of the pods bound to it (graph.py,
authorizer.py). The NodeRestriction admission plugin
(apiserver/admission/node_restriction.py) narrows its writes to its own objects."""
