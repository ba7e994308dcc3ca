"""Azure RBAC for the Azure contract server: built-in role definitions, action matching and
the role-assignment condition language (ABAC, conditionVersion 2.0).

References:
- https://learn.microsoft.com/azure/role-based-access-control/built-in-roles (ids and permissions)
- https://learn.microsoft.com/azure/role-based-access-control/role-definitions
  (Actions / NotActions / DataActions / NotDataActions, wildcards, "how NotActions work")
- https://learn.microsoft.com/azure/role-based-access-control/conditions-format (condition syntax)
"""

import re

# Built-in roles: id -> (roleName, description, permissions). assignableScopes is "/" for all.
_BUILTIN = {
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/privileged#owner
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": ("Owner", "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
                                             {"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}),
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/privileged#contributor
    "b24988ac-6180-42a0-ab88-20f7382dd24c": ("Contributor", "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.",
                                             {"actions": ["*"],
                                              "notActions": ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                                                             "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Blueprint/blueprintAssignments/write",
                                                             "Microsoft.Blueprint/blueprintAssignments/delete", "Microsoft.Compute/galleries/share/action",
                                                             "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
                                                             "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
                                                             "Microsoft.Subscription/cancel/action", "Microsoft.Subscription/enable/action"],
                                              "dataActions": [], "notDataActions": []}),
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/general#reader
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": ("Reader", "View all resources, but does not allow you to make any changes.",
                                             {"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []}),
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/privileged#user-access-administrator
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": ("User Access Administrator", "Lets you manage user access to Azure resources.",
                                             {"actions": ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"], "notActions": [],
                                              "dataActions": [], "notDataActions": []}),
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/identity#managed-identity-operator
    "f1a07417-d97a-45cb-824c-7a7467783830": ("Managed Identity Operator", "Read and Assign User Assigned Identity",
                                             {"actions": ["Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
                                                          "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
                                                          "Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*",
                                                          "Microsoft.Resources/subscriptions/resourceGroups/read",
                                                          "Microsoft.Resources/deployments/*", "Microsoft.Support/*"],
                                              "notActions": [], "dataActions": [], "notDataActions": []}),
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/networking#network-contributor
    "4d97b98b-1d4f-4787-a291-c67834d212e7": ("Network Contributor", "Lets you manage networks, but not access to them.",
                                             {"actions": ["Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Network/*",
                                                          "Microsoft.ResourceHealth/availabilityStatuses/read", "Microsoft.Resources/deployments/*",
                                                          "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"],
                                              "notActions": [], "dataActions": [], "notDataActions": []}),
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage#storage-blob-data-contributor
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": ("Storage Blob Data Contributor", "Read, write, and delete Azure Storage containers and blobs.",
                                             {"actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/delete",
                                                          "Microsoft.Storage/storageAccounts/blobServices/containers/read",
                                                          "Microsoft.Storage/storageAccounts/blobServices/containers/write",
                                                          "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"],
                                              "notActions": [],
                                              "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
                                                              "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                                                              "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
                                                              "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
                                                              "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action"],
                                              "notDataActions": []}),
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage#storage-blob-data-reader
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": ("Storage Blob Data Reader", "Read and list Azure Storage containers and blobs.",
                                             {"actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/read",
                                                          "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"],
                                              "notActions": [],
                                              "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
                                              "notDataActions": []}),
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage#storage-blob-data-owner
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": ("Storage Blob Data Owner", "Provides full access to Azure Storage blob containers and data.",
                                             {"actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/*",
                                                          "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"],
                                              "notActions": [],
                                              "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"],
                                              "notDataActions": []}),
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security#key-vault-crypto-service-encryption-user
    "e147488a-f6f5-4113-8e2d-b22465e65bf6": ("Key Vault Crypto Service Encryption User", "Read metadata of keys and perform wrap/unwrap operations.",
                                             {"actions": ["Microsoft.EventGrid/eventSubscriptions/write", "Microsoft.EventGrid/eventSubscriptions/read",
                                                          "Microsoft.EventGrid/eventSubscriptions/delete"],
                                              "notActions": [],
                                              "dataActions": ["Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/wrap/action",
                                                              "Microsoft.KeyVault/vaults/keys/unwrap/action"],
                                              "notDataActions": []}),
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security#key-vault-crypto-user
    "12338af0-0e69-4776-bea7-57ae8d297424": ("Key Vault Crypto User", "Perform cryptographic operations using keys.",
                                             {"actions": [], "notActions": [],
                                              "dataActions": ["Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/update/action",
                                                              "Microsoft.KeyVault/vaults/keys/backup/action", "Microsoft.KeyVault/vaults/keys/encrypt/action",
                                                              "Microsoft.KeyVault/vaults/keys/decrypt/action", "Microsoft.KeyVault/vaults/keys/wrap/action",
                                                              "Microsoft.KeyVault/vaults/keys/unwrap/action", "Microsoft.KeyVault/vaults/keys/sign/action",
                                                              "Microsoft.KeyVault/vaults/keys/verify/action"],
                                              "notDataActions": []}),
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers#azure-kubernetes-service-rbac-cluster-admin
    "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b": ("Azure Kubernetes Service RBAC Cluster Admin", "Lets you manage all resources in the cluster.",
                                             {"actions": ["Microsoft.Authorization/*/read", "Microsoft.Resources/subscriptions/operationresults/read",
                                                          "Microsoft.Resources/subscriptions/read", "Microsoft.Resources/subscriptions/resourceGroups/read",
                                                          "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"],
                                              "notActions": [], "dataActions": ["Microsoft.ContainerService/managedClusters/*"], "notDataActions": []}),
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers#azure-kubernetes-service-cluster-user-role
    "4abbcc35-e782-43d8-92c5-2d3f1bd2253f": ("Azure Kubernetes Service Cluster User Role", "List cluster user credential action.",
                                             {"actions": ["Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
                                                          "Microsoft.ContainerService/managedClusters/read"],
                                              "notActions": [], "dataActions": [], "notDataActions": []}),
}


def builtin_role_ids():
    return list(_BUILTIN)


def builtin_role(role_id):
    """The built-in role definition body (as GET roleDefinitions answers it), or None."""
    r = _BUILTIN.get(role_id.lower())
    if r is None:
        return None
    name, desc, perms = r
    return {"roleName": name, "type": "BuiltInRole", "description": desc, "assignableScopes": ["/"],
            "permissions": [dict(perms, **{k: list(v) for k, v in perms.items()})],
            "createdOn": "2015-02-02T21:55:09.8806423Z", "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": None, "updatedBy": None}


_PATTERN_CACHE = {}


def _pattern(p):
    """An Azure action pattern as a regex: '*' matches any characters, case-insensitively;
    '/*/' also matches a single '/', so that 'userAssignedIdentities/*/assign/action' grants
    'userAssignedIdentities/assign/action' (as the Managed Identity Operator role does)."""
    rx = _PATTERN_CACHE.get(p)
    if rx is None:
        parts = re.split(r"(/\*/|\*)", p)
        out = []
        for part in parts:
            if part == "/*/":
                out.append(r"(?:/.*)?/")
            elif part == "*":
                out.append(r".*")
            else:
                out.append(re.escape(part))
        rx = re.compile("^" + "".join(out) + "$", re.IGNORECASE)
        _PATTERN_CACHE[p] = rx
    return rx


def action_matches(patterns, action):
    return any(_pattern(p).match(action) for p in patterns or [])


def permissions_grant(permissions, action, data=False):
    """True when one permission block of a role grants `action`: it matches Actions
    (DataActions) and no NotActions (NotDataActions) of the same block
    (https://learn.microsoft.com/azure/role-based-access-control/role-definitions#notactions)."""
    allow, deny = ("dataActions", "notDataActions") if data else ("actions", "notActions")
    for block in permissions or []:
        if action_matches(block.get(allow), action) and not action_matches(block.get(deny), action):
            return True
    return False


def scope_covers(scope, resource_id):
    """A role assignment at `scope` applies to `resource_id` when the scope is the id or one
    of its ancestors, on a segment boundary, case-insensitively."""
    s = scope.rstrip("/").lower()
    r = resource_id.rstrip("/").lower()
    return s == "" or r == s or r.startswith(s + "/")


# ---------------------------------------------------------------------------------------
# Conditions (https://learn.microsoft.com/azure/role-based-access-control/conditions-format)
# ---------------------------------------------------------------------------------------

class ConditionError(ValueError):
    pass


_TOKEN = re.compile(r"""\s*(?:
    (?P<attr>@(?:Resource|Request|Principal|Environment)\[[^\]]+\])
  | (?P<str>'(?:[^']|'')*')
  | (?P<op>&&|\|\||[(){},!])
  | (?P<word>[A-Za-z_][A-Za-z0-9_:]*)
)""", re.VERBOSE)

_STRING_OPS = {"stringequals", "stringnotequals", "stringequalsignorecase", "stringnotequalsignorecase",
               "stringstartswith", "stringnotstartswith", "stringstartswithignorecase", "stringnotstartswithignorecase",
               "stringlike", "stringnotlike", "stringlikeignorecase", "stringnotlikeignorecase"}


def _tokens(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ConditionError(f"unexpected text at {pos}: {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "str":
            val = val[1:-1].replace("''", "'")
        out.append((kind, val))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    def __init__(self, text):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, kind=None, val=None):
        k, v = self.peek()
        if k is None or (kind and k != kind) or (val is not None and (v or "").lower() != val.lower()):
            raise ConditionError(f"expected {val or kind}, found {v!r}")
        self.i += 1
        return v

    def parse(self):
        e = self.expr()
        if self.i != len(self.toks):
            raise ConditionError(f"unexpected {self.peek()[1]!r}")
        return e

    def expr(self):
        left = self.conj()
        while self.peek()[1] is not None and self.peek()[1].upper() in ("OR", "||"):
            self.i += 1
            left = ("or", left, self.conj())
        return left

    def conj(self):
        left = self.unary()
        while self.peek()[1] is not None and self.peek()[1].upper() in ("AND", "&&"):
            self.i += 1
            left = ("and", left, self.unary())
        return left

    def unary(self):
        k, v = self.peek()
        if v == "!" or (k == "word" and v.upper() == "NOT"):
            self.i += 1
            return ("not", self.unary())
        if v == "(":
            self.i += 1
            e = self.expr()
            self.take("op", ")")
            return e
        if k == "word" and v.lower() in ("actionmatches", "suboperationmatches"):
            self.i += 1
            self.take("op", "{")
            s = self.take("str")
            self.take("op", "}")
            return (v.lower(), s)
        if k == "attr":
            self.i += 1
            op = self.take("word")
            if op.lower() not in _STRING_OPS:
                raise ConditionError(f"unsupported operator {op}")
            if self.peek()[1] == "{":
                self.i += 1
                vals = [self.take("str")]
                while self.peek()[1] == ",":
                    self.i += 1
                    vals.append(self.take("str"))
                self.take("op", "}")
            else:
                vals = [self.take("str")]
            return ("cmp", v, op.lower(), vals)
        raise ConditionError(f"unexpected {v!r}")


def parse_condition(text):
    """Parses a condition; raises ConditionError when it is not valid 2.0 syntax (the subset
    of operators unionctl and the docs' storage examples use)."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("empty condition")
    return _Parser(text).parse()


def _like(pattern, value, ignore_case):
    rx = "^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$"
    return re.match(rx, value, re.IGNORECASE if ignore_case else 0) is not None


def evaluate_condition(tree, ctx):
    """ctx: {"action": data action, "suboperation": str or None, "attributes": {"@Request[...]": v}}.
    A missing attribute makes its comparison false."""
    t = tree[0]
    if t == "or":
        return evaluate_condition(tree[1], ctx) or evaluate_condition(tree[2], ctx)
    if t == "and":
        return evaluate_condition(tree[1], ctx) and evaluate_condition(tree[2], ctx)
    if t == "not":
        return not evaluate_condition(tree[1], ctx)
    if t == "actionmatches":
        return _pattern(tree[1]).match(ctx.get("action") or "") is not None
    if t == "suboperationmatches":
        return (ctx.get("suboperation") or "").lower() == tree[1].lower()
    if t == "cmp":
        _, attr, op, vals = tree
        attrs = {k.lower(): v for k, v in (ctx.get("attributes") or {}).items()}
        value = attrs.get(attr.lower())
        if value is None:
            return False
        neg = "not" in op
        base = op.replace("not", "")
        ic = base.endswith("ignorecase")
        base = base.replace("ignorecase", "")
        v = value.lower() if ic else value
        cands = [c.lower() if ic else c for c in vals]
        if base == "stringequals":
            r = v in cands
        elif base == "stringstartswith":
            r = any(v.startswith(c) for c in cands)
        else:  # stringlike
            r = any(_like(c, v, ic) for c in cands)
        return not r if neg else r
    raise ConditionError(f"bad node {t}")
