"""`kubelite server`'s flags for Secrets at rest and the audit log, named and checked
as kube-apiserver's are:

    --encryption-provider-config FILE   an EncryptionConfiguration (apiserver.config.k8s.io/v1)
    --audit-policy-file FILE            an audit Policy (audit.k8s.io/v1)
    --audit-log-path PATH               where events go, one JSON line each; '-' is stdout
    --audit-log-maxage DAYS             remove backups older than this (0: keep)
    --audit-log-maxbackup N             keep at most N backups (0: keep all)
    --audit-log-maxsize MB              rotate before the file passes this (0: 100)

Files are read and validated before the server starts; a bad one stops it with the
reason, as kube-apiserver stops. Auditing runs when both a policy and a log path are
given (with only one, kube-apiserver records nothing either, and kubelite says so).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when used: other commands start without the crypto libraries
    from kubelite.apiserver.audit.auditor import Auditor
    from kubelite.apiserver.encryption.config import EncryptionConfig


def add_flags(server: argparse.ArgumentParser) -> None:
    group = server.add_argument_group("secrets at rest and audit")
    group.add_argument("--encryption-provider-config", type=Path, default=None,
                       metavar="FILE", help="an EncryptionConfiguration: which resources "
                       "are encrypted in the store, with which providers and keys")
    group.add_argument("--audit-policy-file", type=Path, default=None, metavar="FILE",
                       help="an audit.k8s.io/v1 Policy: which requests are audited, and "
                       "at what level")
    group.add_argument("--audit-log-path", default="", metavar="PATH",
                       help="write audit events to this file ('-' for stdout)")
    group.add_argument("--audit-log-maxage", type=int, default=0, metavar="DAYS",
                       help="days to keep rotated audit logs (0: no limit)")
    group.add_argument("--audit-log-maxbackup", type=int, default=0, metavar="N",
                       help="rotated audit logs to keep (0: no limit)")
    group.add_argument("--audit-log-maxsize", type=int, default=0, metavar="MB",
                       help="megabytes an audit log reaches before it is rotated "
                       "(0: 100)")


def load(args: argparse.Namespace) -> tuple[EncryptionConfig | None, Auditor | None]:
    """The server's encryption and auditor from its flags; ValueError with the
    message to print when a flag or a file is wrong."""
    from kubelite.apiserver.audit.auditor import Auditor
    from kubelite.apiserver.audit.log import RotatingFile, Sink, StdoutSink
    from kubelite.apiserver.audit.policy import InvalidPolicy
    from kubelite.apiserver.audit.policy import load_file as load_policy
    from kubelite.apiserver.encryption.config import InvalidEncryptionConfiguration
    from kubelite.apiserver.encryption.config import load_file as load_encryption

    for flag in ("audit_log_maxage", "audit_log_maxbackup", "audit_log_maxsize"):
        if getattr(args, flag) < 0:
            raise ValueError(f"--{flag.replace('_', '-')} {getattr(args, flag)} can't be a "
                             f"negative number")
    encryption = None
    if args.encryption_provider_config is not None:
        try:
            encryption = load_encryption(args.encryption_provider_config)
        except InvalidEncryptionConfiguration as err:
            raise ValueError(str(err)) from None
    if args.audit_policy_file is None or not args.audit_log_path:
        if args.audit_policy_file is not None or args.audit_log_path:
            print("kubelite: auditing needs both --audit-policy-file and --audit-log-path; "
                  "no audit log is written", file=sys.stderr)
        return encryption, None
    try:
        policy = load_policy(args.audit_policy_file)
    except InvalidPolicy as err:
        raise ValueError(f"loading audit policy file: {err}") from None
    sink: Sink
    if args.audit_log_path == "-":
        sink = StdoutSink()
    else:
        log_file = RotatingFile(Path(args.audit_log_path), max_size_mb=args.audit_log_maxsize,
                                max_backups=args.audit_log_maxbackup,
                                max_age_days=args.audit_log_maxage)
        try:
            log_file.open()
        except OSError as err:
            raise ValueError(f"cannot open the audit log {args.audit_log_path}: "
                             f"{err.strerror or err}") from None
        sink = log_file
    return encryption, Auditor(policy, sink)
