"""`kubelite image`: the node's images, as crictl and ctr show them.

    kubelite image import FILE... [--data-dir DIR] [--platform linux/amd64]
    kubelite image ls [--data-dir DIR] [-q]
    kubelite image rm REF... [--data-dir DIR]
    kubelite image pull REF [--data-dir DIR] [--creds USER:PASSWORD] [--platform ...]

They work on <data-dir>/agent/images, the store the node's kubelet uses, and may
run while `kubelite server` runs on that data dir: the store is shared between
processes (kubelite/kubelet/images/store.py), so an imported image is there for
the kubelet's next pod at once. FILE is a docker-archive (`docker save`) or an OCI
image layout, as a directory or a tar (`skopeo copy ... oci-archive:FILE`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubelite.kubelet.images.manifests import Platform
    from kubelite.kubelet.images.store import ImageStore

ID_LENGTH = 13  # what crictl images prints of an id
_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def add_parser(sub: Any) -> None:
    image = sub.add_parser("image", help="manage the node's images")
    image_sub = image.add_subparsers(dest="image_command", required=True)
    load = image_sub.add_parser("import", help="add the images of docker-archive or OCI "
                                               "layout files (or directories)")
    load.add_argument("files", nargs="+", type=Path, metavar="FILE")
    listing = image_sub.add_parser("ls", help="list the node's images")
    listing.add_argument("-q", "--quiet", action="store_true", help="only the image ids")
    remove = image_sub.add_parser("rm", help="remove images, with all their tags")
    remove.add_argument("images", nargs="+", metavar="REF")
    pull = image_sub.add_parser("pull", help="pull an image from its registry")
    pull.add_argument("image", metavar="REF")
    pull.add_argument("--creds", default="", metavar="USER:PASSWORD",
                      help="credentials for the registry")
    for parser in (load, pull):
        parser.add_argument("--platform", default="", metavar="OS/ARCH[/VARIANT]",
                            help="which image of a multi-platform index (default: this "
                                 "machine's)")
    for parser in (load, listing, remove, pull):
        parser.add_argument("--data-dir", type=Path, default=None,
                            help="the node's data dir (same default as kubelite server)")
        parser.add_argument("--log-level", default="WARNING")


def run(args: argparse.Namespace, data_dir: Path) -> int:
    from kubelite.kubelet import cri
    from kubelite.kubelet.images import manifests, store_root
    from kubelite.kubelet.images.archive import ArchiveError
    from kubelite.kubelet.images.store import ImageStore
    from kubelite.kubelet.images.unpack import LayerError

    store = ImageStore(store_root(data_dir))
    try:
        platform = _platform(getattr(args, "platform", ""))
        if args.image_command == "import":
            return _import(store, args.files, platform)
        if args.image_command == "ls":
            return _list(store, args.quiet)
        if args.image_command == "rm":
            return _remove(store, args.images)
        return _pull(store, args.image, args.creds, platform)
    except (ArchiveError, LayerError, manifests.ManifestError, cri.CRIError, ValueError,
            OSError) as err:
        print(f"kubelite: {err}", file=sys.stderr)
        return 1


def _platform(text: str) -> Platform:
    from kubelite.kubelet.images.manifests import Platform, host_platform

    if not text:
        return host_platform()
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"--platform {text!r}: want OS/ARCH or OS/ARCH/VARIANT")
    return Platform(*parts)


def _import(store: ImageStore, files: list[Path], platform: Platform) -> int:
    from kubelite.kubelet.images.archive import import_archive

    for path in files:
        for imported in import_archive(store, path, platform):
            names = [r for r in imported.references if "@" not in r] or [imported.id]
            for name in names:
                print(f"Loaded image: {name} ({imported.id})")
    return 0


def _list(store: ImageStore, quiet: bool) -> int:
    images = store.images()
    if quiet:
        for image in images:
            print(image.id)
        return 0
    rows = [("REPOSITORY", "TAG", "IMAGE ID", "SIZE")]
    for image in images:
        short_id = image.id.removeprefix("sha256:")[:ID_LENGTH]
        size = human_size(image.size)
        for repository, tag in image_rows(image.repo_tags, image.repo_digests):
            rows.append((repository, tag, short_id, size))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("   ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "   " + row[3])
    return 0


def _remove(store: ImageStore, refs: list[str]) -> int:
    status = 0
    for ref in refs:
        image = store.get(ref)
        if image is None or not store.remove(image.id):
            print(f"kubelite: no such image {ref!r}", file=sys.stderr)
            status = 1
            continue
        for name in image.repo_tags + image.repo_digests or (image.id,):
            print(f"Deleted: {name}")
    return status


def _pull(store: ImageStore, image: str, creds: str, platform: Platform) -> int:
    from kubelite.kubelet import cri
    from kubelite.kubelet.images.pull import pull

    auth = None
    if creds:
        username, _, password = creds.partition(":")
        auth = cri.AuthConfig(username=username, password=password)
    image_id = asyncio.run(pull(store, image, auth, platform=platform))
    print(f"Image is up to date for {image_id}")
    return 0


def image_rows(repo_tags: tuple[str, ...],
               repo_digests: tuple[str, ...]) -> list[tuple[str, str]]:
    """(REPOSITORY, TAG) rows of one image, as crictl images prints them: one per tag,
    else one per repository it has a digest in with tag <none>, else <none> <none>."""
    rows = []
    for ref in repo_tags:
        repository, _, tag = ref.rpartition(":")
        rows.append((repository, tag))
    if not rows:
        repositories = sorted({ref.partition("@")[0] for ref in repo_digests})
        rows = [(repository, "<none>") for repository in repositories]
    return rows or [("<none>", "<none>")]


def human_size(size: int) -> str:
    """Bytes as docker's units.HumanSize prints them: 3 significant digits, SI units."""
    value = float(size)
    unit = 0
    while value >= 1000 and unit < len(_UNITS) - 1:
        value /= 1000
        unit += 1
    return f"{value:.3g}{_UNITS[unit]}"
