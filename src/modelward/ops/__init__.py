"""Operations: the audit log, access tokens and scopes, and the service's metrics."""

from modelward.ops.audit import Actor, AuditEntry, AuditLog, Outcome
from modelward.ops.tokens import SCOPES, Principal, Scope, TokenInfo, TokenStore

__all__ = [
    "SCOPES",
    "Actor",
    "AuditEntry",
    "AuditLog",
    "Outcome",
    "Principal",
    "Scope",
    "TokenInfo",
    "TokenStore",
]
