"""botocore's exceptions as modelward's errors, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from modelward.errors import MirrorError

_CREDENTIALS = (
    "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) to credentials that "
    "may read the bucket (and write it, for mirror push)."
)
_REFUSED = {
    "AccessDenied": _CREDENTIALS,
    "InvalidAccessKeyId": _CREDENTIALS,
    "SignatureDoesNotMatch": _CREDENTIALS,
    "403": _CREDENTIALS,
    "NoSuchBucket": "Create the bucket first, or correct the s3:// address.",
}


def error_code(exc: BaseException) -> str:
    """The S3 error code of a botocore ClientError ('' for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code", ""))


def is_missing(exc: BaseException) -> bool:
    """Whether an S3 error says the object (or upload) is not there."""
    return error_code(exc) in ("404", "NoSuchKey", "NotFound", "NoSuchUpload")


@contextmanager
def s3_errors(what: str) -> Iterator[None]:
    """Raise botocore's errors inside as MirrorError naming ``what`` was being done."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        yield
    except NoCredentialsError:
        raise MirrorError(f"{what}: no AWS credentials", hint=_CREDENTIALS) from None
    except ClientError as exc:
        code = error_code(exc)
        hint = _REFUSED.get(code)
        retryable = hint is None and not is_missing(exc)
        raise MirrorError(f"{what}: {code or exc}", hint=hint, retryable=retryable) from None
    except BotoCoreError as exc:
        # Connection refused, timeouts, DNS: the store may come back.
        raise MirrorError(f"{what}: {exc}", retryable=True) from None
