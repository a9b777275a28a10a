"""kubelite's public key infrastructure: the cluster's CAs and the certificates they sign.

certs.py makes keys, CAs and certificates (pure, the clock passed in); cluster.py
keeps the cluster's set under `<data-dir>/tls` and builds the API server's TLS
context. The package sits beside kubelite.api: it imports no other kubelite package,
so the API server, the CLI and later the CSR signing controller can all use it.
"""
