"""Every error modelward raises, in one tree.

Each error carries a stable kebab-case ``code``, a ``message`` a person understands, a
``hint`` saying what to do next, and ``retryable`` (the only thing retry logic looks at).
The same triple reaches the API's JSON, the CLI's output and the logs.

    ModelwardError
    ├── ConfigError                      config-invalid
    │   ├── PortInUseError               port-in-use
    │   ├── ServiceAlreadyRunningError   service-already-running
    │   ├── UnknownRequestError          request-unknown
    │   ├── UnknownTokenError            token-unknown
    │   ├── UnknownNodeError             node-unknown
    │   └── JobInputError                job-input-invalid
    │       ├── InputMissingError        input-missing
    │       ├── InputUnsupportedError    input-unsupported
    │       └── InputNotFoundError       input-not-found
    ├── CatalogError                     catalog-invalid
    │   └── UnknownModelError            model-unknown
    ├── SourceError
    │   ├── SourceUnavailableError       source-unavailable      (retryable)
    │   │   └── RateLimitedError         rate-limited            (retryable, waits)
    │   ├── AuthRequiredError            auth-required
    │   ├── RemoteNotFoundError          remote-not-found
    │   ├── OfflineError                 source-offline
    │   ├── ProtocolViolationError       protocol-violation
    │   │   └── HostileMetadataError     hostile-metadata
    │   ├── MirrorError                  mirror-error
    │   │   └── MirrorObjectError        mirror-object-bad
    │   └── LeaseLostError               lease-lost              (retryable)
    ├── TransferError
    │   ├── IncompleteTransferError      transfer-incomplete     (retryable)
    │   ├── IntegrityError               integrity-mismatch      (retryable)
    │   └── TransferCancelledError       transfer-cancelled
    └── StoreError
        ├── UnsafeFileError              unsafe-file
        ├── InsufficientSpaceError       insufficient-space
        ├── ModelPinnedError             model-pinned
        ├── NoPreviousVersionError       no-previous-version
        ├── PruneRefusedError            prune-refused
        ├── StoreLockedError             store-locked            (retryable)
        │   └── HeldError                store-locked            (retryable)
        ├── NotInStoreError              not-in-store
        └── CorruptEntryError            store-corrupt-entry
    NoAlternativeError                   no-alternative
    FeatureOffError                      feature-off
    ServiceNotRunningError               service-not-running
    ServiceError                         (the code the service sent)
    UnauthorizedError                    unauthorized
    ├── ForbiddenError                   forbidden
    └── HostNotAllowedError              host-not-allowed
    RequestTooLargeError                 request-too-large
    TokenFileError                       tokens-file-invalid
"""

from __future__ import annotations

import errno
from typing import Any, ClassVar, Literal


class ModelwardError(Exception):
    """Root of every error modelward raises on purpose."""

    code: str = "modelward-error"  # a class constant, except on ServiceError
    default_hint: ClassVar[str] = ""
    default_retryable: ClassVar[bool] = False

    def __init__(
        self, message: str, *, hint: str | None = None, retryable: bool | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        self.retryable = self.default_retryable if retryable is None else retryable

    def to_dict(self) -> dict[str, Any]:
        """Return the ``{code, message, hint, retryable}`` form used by the API and CLI."""
        return {
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "retryable": self.retryable,
        }

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(ModelwardError):
    """A setting is missing or malformed."""

    code = "config-invalid"
    default_hint = "Check the environment variables and command-line options."


class PortInUseError(ConfigError):
    """A server was asked to listen on a port something else already holds."""

    code = "port-in-use"

    def __init__(self, host: str, port: int, *, option: str = "--port") -> None:
        super().__init__(
            f"port {port} on {host} is in use",
            hint=f"Choose another with {option} (0 picks a free one), or stop what holds it.",
        )
        self.host = host
        self.port = port


class ServiceAlreadyRunningError(ConfigError):
    """A second service was asked to run for a MODELWARD_HOME one already serves."""

    code = "service-already-running"
    default_hint = "Use that one (every command finds it), or stop it first with "
    default_hint += "'modelward service stop'."


class UnknownRequestError(ConfigError):
    """No queued request has this id."""

    code = "request-unknown"
    default_hint = "List the queued requests ('modelward request list') for their ids."


class JobInputError(ConfigError):
    """A job's inputs do not suit its model, or name a file that is not there."""

    code = "job-input-invalid"
    default_hint = "Give the job what its model takes: a prompt, an image, or both."


class InputMissingError(JobInputError):
    """The job lacks an input its model requires (an image for image-to-video)."""

    code = "input-missing"


class InputUnsupportedError(JobInputError):
    """The job gives an input its model cannot take (an image for text-to-video)."""

    code = "input-unsupported"


class InputNotFoundError(JobInputError):
    """The job names an input file that does not exist where the job runs."""

    code = "input-not-found"


def listen_error(host: str, port: int, error: OSError, option: str = "--port") -> ConfigError:
    """What to tell a user whose server could not listen on ``host:port``."""
    if error.errno == errno.EADDRINUSE:
        return PortInUseError(host, port, option=option)
    return ConfigError(
        f"cannot listen on port {port} on {host}: {error.strerror or error}",
        hint=f"Choose another port with {option} (one above 1023 needs no privileges).",
    )


BAD_PATH_ERRNOS = frozenset(
    {errno.ENAMETOOLONG, errno.ENOTDIR, errno.ELOOP, errno.ENOENT, errno.EACCES, errno.EINVAL}
)
"""What the system answers for a path that cannot name a usable file (too long, through a
file, a symlink loop, missing, not readable, not valid): the caller's mistake, not a bug."""


def path_error(what: str, path: object, error: OSError, hint: str) -> ConfigError | None:
    """The :class:`ConfigError` for a path the system refused with one of
    :data:`BAD_PATH_ERRNOS`; ``None`` for any other failure (the caller re-raises)."""
    if error.errno not in BAD_PATH_ERRNOS:
        return None
    shown = str(path)
    if len(shown) > 200:
        shown = f"{shown[:120]}...{shown[-60:]} ({len(shown)} characters)"
    reason = error.strerror or type(error).__name__
    return ConfigError(f"{what} {shown} cannot be used: {reason.lower()}", hint=hint)


class CatalogError(ModelwardError):
    """A catalog file or entry is malformed."""

    code = "catalog-invalid"
    default_hint = "Fix the catalog file; see docs/CATALOG.md for the fields an entry takes."

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        entry: str | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"entry '{entry}'" if entry else "",
                f"field '{field}'" if field else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.file = file
        self.entry = entry
        self.field = field


class UnknownModelError(CatalogError):
    """A model id is not in the catalog."""

    code = "model-unknown"
    default_hint = "Run 'modelward status' to list the catalog's model ids."


class SourceError(ModelwardError):
    """The remote side could not give us what we asked for."""

    code = "source-error"


class SourceUnavailableError(SourceError):
    """The source is unreachable or overloaded for now; trying again later may work."""

    code = "source-unavailable"
    default_hint = "Check the network and the endpoint; modelward retries on its own."
    default_retryable = True

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        hint: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message, hint=hint, retryable=retryable)
        self.retry_after_s = retry_after_s


class RateLimitedError(SourceUnavailableError):
    """The hub's rate limit is used up for now; the download waits as announced, never
    counting it as a failure."""

    code = "rate-limited"
    default_hint = "modelward waits for the time the hub announced and carries on by itself."


class AuthRequiredError(SourceError):
    """The repository is gated or private and our credentials were refused."""

    code = "auth-required"
    default_hint = (
        "Log in with 'hf auth login' or set HF_TOKEN, and accept the model's licence "
        "on its page if it is gated."
    )


class RemoteNotFoundError(SourceError):
    """The repository, revision or file does not exist at the source."""

    code = "remote-not-found"
    default_hint = "Check the repo id and revision in the catalog entry."


class OfflineError(SourceError):
    """Offline mode (HF_HUB_OFFLINE=1) is on, so no source may be contacted."""

    code = "source-offline"
    default_hint = (
        "Unset HF_HUB_OFFLINE (or set it to 0) once the hub is reachable, then run the "
        "command again."
    )


class ProtocolViolationError(SourceError):
    """The source answered something the protocol does not allow."""

    code = "protocol-violation"
    default_hint = "Check that the endpoint really is a Hugging Face Hub or mirror."


class HostileMetadataError(ProtocolViolationError):
    """Repository metadata that could write outside the store was refused."""

    code = "hostile-metadata"
    default_hint = "Nothing was written. Do not use this source; report it to whoever runs it."


class MirrorError(SourceError):
    """A team mirror (an S3-compatible bucket) cannot be read or written as asked."""

    code = "mirror-error"
    default_hint = (
        "Check the mirror address (s3://BUCKET/PREFIX), AWS_ENDPOINT_URL and the AWS "
        "credentials; pulls fall back to the Hub meanwhile."
    )


class MirrorObjectError(MirrorError):
    """An object in the mirror does not hold what its manifest and the Hub say it does."""

    code = "mirror-object-bad"
    default_hint = (
        "The file is fetched from the Hub instead. Run 'modelward mirror verify' and push "
        "the model again from a node that has it verified."
    )


class LeaseLostError(SourceError):
    """Another node took over this node's claim to fetch a blob for the team."""

    code = "lease-lost"
    default_hint = "Nothing to do: the file is taken from the mirror once the other node publishes."
    default_retryable = True


class TransferError(ModelwardError):
    """Moving bytes from a source to disk failed."""

    code = "transfer-error"


class IncompleteTransferError(TransferError):
    """The connection ended before the promised bytes arrived."""

    code = "transfer-incomplete"
    default_hint = "The partial data is kept; running the command again resumes it."
    default_retryable = True


class IntegrityError(TransferError):
    """Bytes received do not match the checksum the source published."""

    code = "integrity-mismatch"
    default_hint = "The bad data was discarded and not promoted; the file is fetched again."
    default_retryable = True


class TransferCancelledError(TransferError):
    """The transfer was cancelled on request."""

    code = "transfer-cancelled"
    default_hint = "Start the download again when you want it."


class StoreError(ModelwardError):
    """The local store cannot do what was asked."""

    code = "store-error"


class UnsafeFileError(StoreError):
    """A pickle-format weight file carries code that would run when it is loaded."""

    code = "unsafe-file"
    default_hint = (
        "The file was quarantined, not installed (`modelward quarantine list`). Use the "
        "model's safetensors weights, or ask its publisher."
    )


class InsufficientSpaceError(StoreError):
    """The disk holding the store has too little free space."""

    code = "insufficient-space"
    default_hint = "Free disk space or point --cache-dir at a larger disk, then run again."

    def __init__(
        self, message: str, *, needed_bytes: int, free_bytes: int, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.needed_bytes = needed_bytes
        self.free_bytes = free_bytes


class ModelPinnedError(StoreError):
    """A pinned model was asked to be removed."""

    code = "model-pinned"
    default_hint = "Unpin it first (`modelward unpin MODEL`) if it should really go."


class NoPreviousVersionError(StoreError):
    """A rollback was asked for but there is no complete previous version to go back to."""

    code = "no-previous-version"
    default_hint = "A rollback needs an update applied by modelward whose previous version "
    default_hint += "is still on disk."


class PruneRefusedError(StoreError):
    """The previous version of a model was to be removed, but the served one is not whole
    and verified: the backup stays."""

    code = "prune-refused"
    default_hint = "Repair the model (`modelward repair MODEL`), or roll back to the previous "
    default_hint += "version (`modelward update rollback MODEL`); then prune again."


class StoreLockedError(StoreError):
    """Another process holds the lock on a blob we need to write."""

    code = "store-locked"
    default_hint = "Another download of the same file is running; wait for it to finish."
    default_retryable = True


class HeldError(StoreLockedError):
    """A model something holds (a job, a download, queued requests, a pin) cannot go."""

    def __init__(self, model_id: str, reason: str) -> None:
        super().__init__(
            f"{model_id} cannot be removed now: {reason}",
            hint="Wait until it is free (or cancel what holds it), then run again.",
        )
        self.reason = reason


class NotInStoreError(StoreError):
    """This node's store holds no verified copy of what a client asked for: a repo, a
    revision of it, or one of its files (the Hub endpoint for plain clients)."""

    code = "not-in-store"
    default_hint = "Pull the model on this node first, or ask a node that has it."

    def __init__(
        self, message: str, *, missing: Literal["repo", "revision", "file"], hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.missing = missing


class CorruptEntryError(StoreError):
    """A file in the store does not match what it should hold."""

    code = "store-corrupt-entry"
    default_hint = "Run 'modelward pull MODEL' to fetch the damaged file again."


class NoAlternativeError(ModelwardError):
    """No catalog model can serve the job instead of the requested one."""

    code = "no-alternative"
    default_hint = "Relax the requirements (quality, inputs, GPU memory) or add models."


class FeatureOffError(ModelwardError):
    """The enhancement a request needs is switched off in the settings."""

    code = "feature-off"
    default_hint = (
        "Switch the feature on (PATCH /api/v1/settings, the dashboard's settings, or drop "
        "it from MODELWARD_FEATURES_OFF), or do without it."
    )


class ServiceNotRunningError(ModelwardError):
    """A command needs the modelward service and none answered."""

    code = "service-not-running"
    default_hint = "Start it with 'modelward serve' (or 'modelward demo')."


class ServiceError(ModelwardError):
    """Whatever the service reported as failed (or could not answer), as the CLI sees it.

    Carries the service's own ``code``, ``message`` and ``hint``, and the HTTP status
    (None when no answer came).
    """

    code = "service-error"
    default_hint = "Check the service's log (MODELWARD_HOME/service.log for one started on demand)."

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        hint: str | None = None,
        status_code: int | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message, hint=hint, retryable=retryable)
        if code:
            self.code = code
        self.status_code = status_code


class UnknownTokenError(ConfigError):
    """No access token has the given name."""

    code = "token-unknown"
    default_hint = "List the tokens with 'modelward token list'."


class UnknownNodeError(ConfigError):
    """A fleet action names a node that never registered in the shared database."""

    code = "node-unknown"
    default_hint = "List the nodes with 'modelward fleet' (GET /api/v1/fleet)."


class UnauthorizedError(ModelwardError):
    """A request to the service lacked the bearer token, or carried a wrong one."""

    code = "unauthorized"
    default_hint = (
        "Send 'Authorization: Bearer <token>'; the token is printed when the service starts "
        "and kept in MODELWARD_HOME/api-token."
    )


class ForbiddenError(UnauthorizedError):
    """The request's token is valid but its scope does not cover the action."""

    code = "forbidden"
    default_hint = (
        "Ask an admin for a token with the scope this action needs "
        "(modelward token create NAME --scope operate|admin)."
    )


class HostNotAllowedError(UnauthorizedError):
    """The request's Host header names a host the service does not answer for."""

    code = "host-not-allowed"
    default_hint = (
        "Use the address the service is bound to, or add the name to MODELWARD_ALLOWED_HOSTS."
    )


class RequestTooLargeError(ModelwardError):
    """A request body is larger than the service accepts."""

    code = "request-too-large"
    default_hint = "Send a smaller body; no route of this API takes more than the limit."


class TokenFileError(ModelwardError):
    """MODELWARD_HOME/tokens.json cannot be read: named tokens cannot be checked until an
    admin fixes it (the service's own token still works)."""

    code = "tokens-file-invalid"
    default_hint = (
        "An admin must fix or delete MODELWARD_HOME/tokens.json (deleting it revokes every "
        "named token); the service's own token still works meanwhile."
    )


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to report for a group of concurrent failures: a modelward one if any."""
    return failure_causes(group)[0]


def failure_causes(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    """The errors that made a group of concurrent tasks fail, the one to report first."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    # A sibling cut short when the group was cancelled ends "incomplete"; the error that
    # caused the cancellation is the one to report.
    ours = [e for e in leaves if isinstance(e, ModelwardError)]
    causes = [e for e in ours if not isinstance(e, IncompleteTransferError)]
    chosen: list[BaseException] = list(causes or ours or leaves)
    return chosen
