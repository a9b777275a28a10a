"""Role-based access control: the RBAC authorizer, its default policy, the escalation
checks on RBAC writes (see kubelite/apiserver/README.md, "Authorization")."""
