"""`kubelite token create|list|delete`: bootstrap tokens, as `kubeadm token` and
`k3s token` manage them, through the API (a Secret per token in kube-system).

`create` makes `<id>.<secret>` (or takes one given), valid for `--ttl` (24 h by
default, 0 for ever), usable for authentication and signing by default, in the group
`system:bootstrappers:kubelite:default-node-token` unless `--groups` says otherwise,
and prints it: the credential `kubelite agent` will join with.
"""

from __future__ import annotations

import argparse
import datetime
import re
import secrets
import string
import sys
from typing import TYPE_CHECKING, Any

from kubelite.api.bootstrap_token import (
    EXPIRATION_KEY,
    EXTRA_GROUPS_KEY,
    ID_KEY,
    NAMESPACE,
    SECRET_PREFIX,
    SECRET_TYPE,
    USAGES,
    secret_data,
    token_secret,
)
from kubelite.machinery import errors

if TYPE_CHECKING:
    from kubelite.client.rest import Client

Obj = dict[str, Any]
DEFAULT_GROUP = "system:bootstrappers:kubelite:default-node-token"
_ALPHABET = string.ascii_lowercase + string.digits


def add_parser(sub: Any, default_kubeconfig: str) -> None:
    token = sub.add_parser("token", help="manage bootstrap tokens for joining nodes")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="make a bootstrap token and print it")
    create.add_argument("token", nargs="?", default=None,
                        help="the token to make (<6 of [a-z0-9]>.<16 of [a-z0-9]>); "
                             "default: a random one")
    create.add_argument("--ttl", type=_duration, default=datetime.timedelta(hours=24),
                        help="how long it is valid (e.g. 24h, 30m; 0 for ever)")
    create.add_argument("--description", default="")
    create.add_argument("--usages", default=",".join(USAGES),
                        help="comma separated: signing, authentication")
    create.add_argument("--groups", default=DEFAULT_GROUP,
                        help="extra groups its user is in (system:bootstrappers:...)")
    listing = token_sub.add_parser("list", help="list bootstrap tokens")
    delete = token_sub.add_parser("delete", help="delete bootstrap tokens")
    delete.add_argument("tokens", nargs="+", metavar="TOKEN_OR_ID")
    for parser in (create, listing, delete):
        parser.add_argument("--kubeconfig", default=default_kubeconfig,
                            help="the cluster to manage (default: the server's admin "
                                 "kubeconfig)")
        parser.add_argument("--log-level", default="WARNING")


def _duration(value: str) -> datetime.timedelta:
    """A Go duration, as kubeadm's --ttl takes it (24h, 1h30m; 0 for ever)."""
    from kubelite.api.protobuf.wellknown import parse_duration

    try:
        nanoseconds = parse_duration(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid duration {value!r} (e.g. 24h, 90m, 0)") \
            from None
    if nanoseconds < 0:
        raise argparse.ArgumentTypeError(f"invalid duration {value!r}: negative")
    return datetime.timedelta(microseconds=nanoseconds // 1000)


def generate() -> str:
    def pick(n: int) -> str:
        return "".join(secrets.choice(_ALPHABET) for _ in range(n))
    return f"{pick(6)}.{pick(16)}"


async def run(args: argparse.Namespace) -> int:
    from kubelite.client.kubeconfig import ConfigError
    from kubelite.client.rest import Client

    try:
        client = Client.from_kubeconfig(str(args.kubeconfig), field_manager="kubelite-token")
    except (ConfigError, OSError) as err:
        print(f"kubelite: {err}", file=sys.stderr)
        return 2
    try:
        if args.token_command == "create":
            return await _create(client, args)
        if args.token_command == "list":
            return await _list(client)
        return await _delete(client, args.tokens)
    except errors.StatusError as err:
        print(f"kubelite: {err.message}", file=sys.stderr)
        return 1
    finally:
        await client.close()


async def _create(client: Client, args: argparse.Namespace) -> int:
    token = args.token or generate()
    try:
        secret = token_secret(
            token, ttl=args.ttl, description=args.description,
            usages=[u for u in args.usages.split(",") if u],
            groups=[g for g in args.groups.split(",") if g],
            now=datetime.datetime.now(datetime.UTC))
    except ValueError as err:
        print(f"kubelite: {err}", file=sys.stderr)
        return 2
    await client.create("secrets", secret, namespace=NAMESPACE)
    print(token)
    return 0


async def _list(client: Client) -> int:
    listed = await client.list("secrets", namespace=NAMESPACE)
    rows = [("TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS")]
    now = datetime.datetime.now(datetime.UTC)
    for secret in listed.get("items") or []:
        if secret.get("type") != SECRET_TYPE:
            continue
        token_id = secret_data(secret, ID_KEY)
        expires = secret_data(secret, EXPIRATION_KEY)
        ttl = "<forever>"
        if expires:
            try:
                left = datetime.datetime.fromisoformat(expires) - now
                ttl = f"{max(0, int(left.total_seconds() // 3600))}h" if left.total_seconds() > 0 \
                    else "<invalid>"
            except ValueError:
                ttl = "<invalid>"
        usages = ",".join(u for u in USAGES if secret_data(secret, f"usage-bootstrap-{u}") == "true")
        rows.append((f"{token_id}.<secret>", ttl, expires or "<never>", usages or "<none>",
                     secret_data(secret, "description") or "<none>",
                     secret_data(secret, EXTRA_GROUPS_KEY) or "<none>"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("   ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


async def _delete(client: Client, tokens: list[str]) -> int:
    code = 0
    for given in tokens:
        token_id = given.split(".", 1)[0]
        if not re.fullmatch(r"[a-z0-9]{6}", token_id):
            print(f"kubelite: {given!r} is neither a token nor a token id", file=sys.stderr)
            code = 2
            continue
        try:
            await client.delete("secrets", SECRET_PREFIX + token_id, namespace=NAMESPACE)
        except errors.NotFound:
            print(f"kubelite: bootstrap token {token_id!r} not found", file=sys.stderr)
            code = 1
            continue
        print(f"bootstrap token {token_id!r} deleted")
    return code
