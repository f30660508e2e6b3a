"""Every rule of the pack in one list, and `evaluate`: the pack run in this process, as its server would.

`evaluate` is what tests compare the gRPC verdicts against; it is also a quick way for tools to check
resources without starting the pack.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from policies import (
    access_rules,
    credential_rules,
    host_rules,
    identity_rules,
    isolation_rules,
    kubernetes_cluster_rules,
    kubernetes_pod_rules,
    network_rules,
    operation_rules,
    proxmox_rules,
    role_rules,
    stack_rules,
    vm_rules,
)
from policies.analyzer_client import (
    PlannedResource,
    PolicySchema,
    Violation,
    encode_properties,
    normalize_config,
)
from policies.common import PACK_NAME, RULE_INFO

# One module per family; each judges what a resource can do, whatever it is called.
FAMILIES = (
    access_rules,
    identity_rules,
    isolation_rules,
    host_rules,
    network_rules,
    operation_rules,
    role_rules,
    credential_rules,
    vm_rules,
    proxmox_rules,
    stack_rules,
    kubernetes_pod_rules,
    kubernetes_cluster_rules,
)
POLICIES: list[Policy] = [policy for family in FAMILIES for policy in family.POLICIES]

DESCRIPTION = (
    "CIS Docker Benchmark v1.6 and platform rules for the Milvus platform: identity by image, isolation, host "
    "paths, network exposure, operations, credentials by every route, published ports per role, the Proxmox "
    "VM and firewall, whole-stack rules, and for the Kubernetes target CIS Kubernetes Benchmark v1.8.0 and Pod "
    "Security Standards rules on pods, the Milvus resource, Services, namespaces and Helm releases."
)

__all__ = ["DESCRIPTION", "PACK_NAME", "POLICIES", "RULE_INFO", "evaluate", "schemas"]


def schemas() -> dict[str, PolicySchema]:
    """Each rule's default level and config properties, as GetAnalyzerInfo reports them."""
    result = {}
    for policy in POLICIES:
        assert policy.enforcement_level is not None and policy.config_schema is not None
        result[policy.name] = PolicySchema(
            policy.enforcement_level.value, dict(policy.config_schema.properties)
        )
    return result


def _props(resource: PlannedResource) -> Any:
    """The properties the way the server sees them: marshalled, unmarshalled, behind the unknown proxy."""
    message = struct_pb2.Struct()
    message.update(encode_properties(resource.properties))
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(message)))


def _options(resource: PlannedResource) -> PolicyResourceOptions:
    options = resource.options
    return PolicyResourceOptions(
        bool(options.get("protect", False)),
        list(options.get("ignoreChanges", [])),
        options.get("deleteBeforeReplace"),
        list(options.get("aliases", [])),
        PolicyCustomTimeouts(0, 0, 0),
        list(options.get("additionalSecretOutputs", [])),
        resource.parent,
    )


def _provider(resource: PlannedResource) -> PolicyProviderResource | None:
    if resource.provider is None:
        return None
    p = resource.provider
    return PolicyProviderResource(p.type, _props(p), p.urn, p.name)


def evaluate(
    resources: Sequence[PlannedResource],
    config: Mapping[str, Any] | None = None,
    rules: Collection[str] | None = None,
) -> list[Violation]:
    """Run every rule (or only `rules`) in this process, with the same config handling and messages as the
    gRPC path."""
    settings = normalize_config(config, schemas())
    names = {r.urn: r.name for r in resources}
    violations: list[Violation] = []

    def reporter(policy: Policy, level: str, default_urn: str) -> Any:
        def report(message: str, urn: str | None = None) -> None:
            target = urn or default_urn
            violations.append(Violation(policy.name, level, target, names.get(target, ""), message))

        return report

    # Rules only read properties, so each resource is marshalled once rather than once per rule.
    views = {r.urn: (_props(r), _options(r), _provider(r)) for r in resources}
    for policy in POLICIES:
        level, properties = settings[policy.name]
        level = "mandatory" if level == "remediate" else level  # what the server reports for it
        if level == "disabled" or not isinstance(policy, ResourceValidationPolicy):
            continue
        if rules is not None and policy.name not in rules:
            continue
        for r in resources:
            props, options, provider = views[r.urn]
            args = ResourceValidationArgs(r.type, props, r.urn, r.name, options, provider, dict(properties))
            policy.validate(args, reporter(policy, level, r.urn))

    stack = {}
    for r in resources:
        props, options, provider = views[r.urn]
        stack[r.urn] = PolicyResource(r.type, props, r.urn, r.name, options, provider, None, [], {})
    for r in resources:
        node = stack[r.urn]
        node.parent = stack.get(r.parent) if r.parent else None
        node.dependencies = [stack[d] for d in r.dependencies if d in stack]
        node.property_dependencies = {
            key: [stack[d] for d in urns if d in stack] for key, urns in r.property_dependencies.items()
        }
    for policy in POLICIES:
        level, properties = settings[policy.name]
        level = "mandatory" if level == "remediate" else level
        if level == "disabled" or not isinstance(policy, StackValidationPolicy):
            continue
        if rules is not None and policy.name not in rules:
            continue
        policy.validate(
            StackValidationArgs(list(stack.values()), dict(properties)), reporter(policy, level, "")
        )
    return violations
