"""Which privileges Milvus 2.5 grants, what a grant is, and the names Milvus reserves: the one place in code.

Read in milvus-io/milvus (docs/upstream.md, "Milvus access"): `pkg/util/constant.go` `ObjectPrivileges` lists,
per object type, the privileges the v1 grant API (`OperatePrivilege` without a version, pymilvus
`MilvusClient.grant_privilege`) accepts; rootcoord's `isValidGrantor` refuses any other name for that object
type, and accepts `*` (every privilege) for each. The program grants through that v1 API only, because both
servers it meets speak it: the platform's Milvus 2.5.15 and the tests' real Milvus 2.3.5 (pymilvus's
`grant_privilege_v2` and privilege groups exist from 2.5 on only). So:

- `PRIVILEGES` are 2.5's v1 names, minus the privilege groups;
- `PRIVILEGE_GROUPS` (2.5's `Group*` names in that table, and the v2 group names) are refused with a reason:
  the test server cannot prove how 2.5 stores and reports them, and listing the privileges says the same;
- `NEWER_THAN_TEST_SERVER` are the 2.5 names the 2.3.5 test server refuses (tests/access pins the set), so
  a grant of one of them is proven only against a real 2.5.

Names: users `ValidateUsername`, roles, databases and object names `validateName` (internal/proxy/util.go).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

ANY = "*"
"""Milvus's wildcard (`util.AnyWord`): every privilege, every object of a type, or every database."""

COLLECTION, GLOBAL, USER = "Collection", "Global", "User"

PRIVILEGES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        COLLECTION: (
            "Load",
            "Release",
            "Compaction",
            "Insert",
            "Delete",
            "Upsert",
            "GetStatistics",
            "CreateIndex",
            "IndexDetail",
            "DropIndex",
            "Search",
            "Flush",
            "Query",
            "LoadBalance",
            "Import",
            "GetLoadingProgress",
            "GetLoadState",
            "CreatePartition",
            "DropPartition",
            "ShowPartitions",
            "HasPartition",
            "GetFlushState",
        ),
        GLOBAL: (
            "All",
            "CreateCollection",
            "DropCollection",
            "DescribeCollection",
            "ShowCollections",
            "RenameCollection",
            "CreateOwnership",
            "DropOwnership",
            "SelectOwnership",
            "ManageOwnership",
            "BackupRBAC",
            "RestoreRBAC",
            "CreateResourceGroup",
            "UpdateResourceGroups",
            "DropResourceGroup",
            "DescribeResourceGroup",
            "ListResourceGroups",
            "TransferReplica",
            "TransferNode",
            "FlushAll",
            "CreateDatabase",
            "DropDatabase",
            "ListDatabases",
            "AlterDatabase",
            "DescribeDatabase",
            "CreateAlias",
            "DropAlias",
            "DescribeAlias",
            "ListAliases",
        ),
        USER: ("UpdateUser", "SelectUser"),
    }
)
OBJECT_TYPES = tuple(PRIVILEGES)

# 2.5's privilege groups: the `Group*` entries of the v1 table and the names grant_privilege_v2 takes.
PRIVILEGE_GROUPS = frozenset(
    {
        "GroupReadOnly",
        "GroupReadWrite",
        "GroupAdmin",
        *(
            f"{prefix}{level}{suffix}"
            for prefix in ("Group", "")
            for level in ("Cluster", "Database", "Collection")
            for suffix in ("ReadOnly", "ReadWrite", "Admin")
        ),
    }
)

# 2.5 names the 2.3.5 test server refuses ("not found the privilege name"): tests/access pins this set.
NEWER_THAN_TEST_SERVER = frozenset(
    {"AlterDatabase", "BackupRBAC", "DescribeDatabase", "RestoreRBAC", "UpdateResourceGroups"}
)

# Built in, never created or dropped by the program (util.DefaultRoles); binding a user to `admin` is
# what the policy pack's `milvus-user-not-admin` judges.
ADMIN_ROLE, PUBLIC_ROLE = "admin", "public"
BUILT_IN_ROLES = (ADMIN_ROLE, PUBLIC_ROLE)
ROOT_USER = "root"
DEFAULT_DATABASE = "default"  # exists in every Milvus since databases came (2.2.9); never dropped here

# ValidateUsername: a letter, then letters, digits and underscores; proxy.maxUsernameLength is 32.
USER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
USER_NAME_ACCEPTED = "a letter, then letters, digits and underscores, at most 32 characters"
# validateName (roles, object names; databases use the same rule): a letter or underscore, then letters,
# digits, underscores (Milvus also takes `$` there; left out so every name is a plain identifier), at most
# proxy.maxNameLength = 255.
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
NAME_ACCEPTED = "a letter or underscore, then letters, digits and underscores, at most 255 characters"


@dataclass(frozen=True, order=True)
class Grant:
    """One privilege a role holds: `privilege` on object `object_name` (or `*`, every one) of `object_type`
    in `database` (or `*`, every database). Ordered, so a role's grants have one canonical order."""

    object_type: str
    object_name: str
    privilege: str
    database: str

    def to_wire(self) -> dict[str, str]:
        """The form grants take in resource inputs and state (the stack config's keys)."""
        return {
            "objectType": self.object_type,
            "objectName": self.object_name,
            "privilege": self.privilege,
            "database": self.database,
        }

    @staticmethod
    def from_wire(data: object) -> Grant:
        if not isinstance(data, dict):
            raise ValueError(f"a grant is an object, not {type(data).__name__}")
        return Grant(
            str(data["objectType"]), str(data["objectName"]), str(data["privilege"]), str(data["database"])
        )

    def covers_everything(self) -> bool:
        """Every object of its type in every database."""
        return self.object_name == ANY and self.database == ANY


def privilege_problem(object_type: str, privilege: str) -> str | None:
    """Why Milvus 2.5's v1 grant API (as this program uses it) would not take `privilege` on `object_type`
    (a phrase to follow the name), or None when it would."""
    if object_type not in PRIVILEGES:
        return f"on an object type other than {', '.join(OBJECT_TYPES)}"
    if privilege == ANY or privilege in PRIVILEGES[object_type]:
        return None
    if privilege in PRIVILEGE_GROUPS:
        return (
            "a privilege group, which Milvus grants only through its 2.5 API (grant_privilege_v2); "
            "list the privileges it stands for instead"
        )
    for other, names in PRIVILEGES.items():
        if privilege in names:
            return f"a {other} privilege, not a {object_type} one"
    return "not a privilege Milvus 2.5 knows"
