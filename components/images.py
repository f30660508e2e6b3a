"""The single place image versions live: the defaults of `milvus-platform:versions`."""

from __future__ import annotations

import re
from typing import NamedTuple


class DefaultImages(NamedTuple):
    etcd: str
    minio: str
    milvus: str
    attu: str
    backup: str


DEFAULT_IMAGES = DefaultImages(
    etcd="quay.io/coreos/etcd:v3.5.18",
    minio="minio/minio:RELEASE.2024-05-28T17-19-04Z",
    milvus="milvusdb/milvus:v2.5.15",
    # Attu's compatibility table pairs Milvus 2.5.x with Attu 2.5.x (v2.5.10 or newer).
    attu="zilliz/attu:v2.5.10",
    # v0.5.16 (zilliztech/milvus-backup tag v0.5.16, commit 719e9ac): Milvus 2.5's nullable fields and
    # default values (since v0.4.25) and functions/BM25 (since v0.5.0) are backed up; older releases drop
    # them silently. Multi-arch (amd64, arm64: .github/workflows/release.yaml at v0.5.16). backup.yaml
    # (components/backup/backup_yaml.py) and the scheduler's scripts are written for this release.
    backup="milvusdb/milvus-backup:v0.5.16",
)

# [registry[:port]/]path[:tag][@sha256:digest], as the Docker reference grammar allows (lower-case path).
_REFERENCE = re.compile(
    r"^(?P<name>(?:[a-zA-Z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


# A release (CIS Docker 5.28): a full version (three numbers), a MinIO-style release stamp, or a date stamp.
# A major or minor tag (`v2`, `v2.5`, `stable`) moves with every release it names. The policy pack keeps
# the same definition (policies/identity_rules.py); tests/test_single_sources.py proves the two agree.
_FULL_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([.+_-][0-9A-Za-z._+-]*)?$")
_RELEASE_STAMP = re.compile(r"^RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z([.-][0-9A-Za-z._-]+)?$")
_DATE_STAMP = re.compile(r"(^|[^0-9])(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])($|[^0-9])")


class ImageError(ValueError):
    pass


def check_image_reference(reference: str) -> None:
    """Accept only references pinned to a release (CIS Docker 5.28): a full version, a release or date
    stamp, or a digest."""
    match = _REFERENCE.match(reference)
    if not match:
        raise ImageError("not a valid image reference")
    tag, digest = match.group("tag"), match.group("digest")
    if digest:
        return
    if tag is None:
        raise ImageError("no tag, so Docker would pull `latest`")
    if tag == "latest":
        raise ImageError("`latest` is not a pinned version")
    if not (_FULL_VERSION.match(tag) or _RELEASE_STAMP.match(tag) or _DATE_STAMP.search(tag)):
        raise ImageError(
            f"the tag `{tag}` moves with every release it names; pin a full version such as v2.5.15"
        )


def image_tag(reference: str) -> str:
    match = _REFERENCE.match(reference)
    assert match, reference
    return match.group("tag") or match.group("digest")


def image_parts(reference: str) -> tuple[str, str | None, str | None]:
    """A reference's repository (with its registry), tag and digest; tag or digest may be None."""
    match = _REFERENCE.match(reference)
    assert match, reference
    return match.group("name"), match.group("tag"), match.group("digest")
