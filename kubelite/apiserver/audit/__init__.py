"""The audit log: a Policy picks the requests and their level, the Auditor writes
audit.k8s.io/v1 Events for them, one JSON line each, to a rotating file or stdout."""
