"""The policy pack's entry point: the Pulumi CLI runs `python -u -m pulumi.policy <engine> .` here, which runs
this file; `PolicyPack` serves the analyzer gRPC service and prints its port on stdout."""

import sys
from pathlib import Path

# The rules are the `policies` package of this repository (the offline plan tool and the tests import them
# under that name); the CLI puts only this directory on sys.path, so add the repository root.
_REPOSITORY = str(Path(__file__).resolve().parent.parent)
if _REPOSITORY not in sys.path:
    sys.path.insert(0, _REPOSITORY)

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.catalog import DESCRIPTION, PACK_NAME, POLICIES  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    policies=POLICIES,
    enforcement_level=EnforcementLevel.ADVISORY,
    description=DESCRIPTION,
)
