"""Operations: the audit log, access tokens and scopes, and the service's metrics."""

from modelward.ops.audit import Actor, AuditEntry, AuditLog, Outcome

__all__ = ["Actor", "AuditEntry", "AuditLog", "Outcome"]
