"""The container runtimes behind cri.py: `host` (host processes), `runc` (OCI containers)."""
