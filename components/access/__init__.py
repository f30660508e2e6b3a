"""Milvus access as code: databases, roles with their grants, users, their roles, and root's password.

- `privileges.py`: which privileges Milvus 2.5 grants and what a grant is (the one place in code);
- `settings.py`: the `milvus.access` config section, refused whole before anything is declared;
- `operations.py`: pure operations over pymilvus's `MilvusClient`: read what the server has, plan the
  changes from desired vs actual, apply them (undone again when one fails); tested against a real Milvus;
- `connection.py`: how the machine running `pulumi up` reaches Milvus (directly, or through an SSH tunnel
  to the Docker host), and errors that name the URI and the operation, never a password;
- `provider.py`: the thin Pulumi dynamic-provider adapter around the operations (one resource type per
  kind: RootPassword, Database, Role, User, RoleBinding);
- `component.py`: `MilvusAccess`, the component that declares them for every target.
"""
