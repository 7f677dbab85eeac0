"""Talking to the running service over HTTP, for the commands that steer its downloads."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from modelward._version import __version__
from modelward.cli.discovery import find_service, not_running
from modelward.errors import ModelwardError
from modelward.settings import Settings

TIMEOUT_S = 30.0


class ServiceRequestError(Exception):
    """The service refused a request; carries the ``{code, message, hint}`` it sent."""

    def __init__(self, code: str, message: str, hint: str, status_code: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.status_code = status_code

    @classmethod
    def from_response(cls, response: httpx.Response) -> ServiceRequestError:
        """Read the service's error body; anything else becomes a generic error."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and {"code", "message"} <= body.keys():
            return cls(
                str(body["code"]),
                str(body["message"]),
                str(body.get("hint") or ""),
                response.status_code,
            )
        return cls(
            "service-error",
            f"the service answered {response.status_code} {response.reason_phrase}",
            "Check the service's log; run it with -v for more detail.",
            response.status_code,
        )


class ServiceClient:
    """A client of the service this machine's MODELWARD_HOME points at."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout_s: float | None = TIMEOUT_S,
        token_hint: str = "Set MODELWARD_TOKEN to the token the service printed at start.",
    ) -> None:
        headers = {"User-Agent": f"modelward-cli/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url
        self._token_hint = token_hint
        self._http = httpx.Client(base_url=url, headers=headers, timeout=timeout_s)

    @classmethod
    def discover(cls, settings: Settings, timeout_s: float | None = TIMEOUT_S) -> ServiceClient:
        """Find the running service and read the API token (MODELWARD_TOKEN or the file);
        ``timeout_s`` None waits as long as the service works (an update)."""
        info = find_service(settings.home)
        token_file = settings.api_token_file
        if settings.api_token:
            where = "the token in MODELWARD_TOKEN was refused"
        elif token_file.is_file():
            where = f"the token in {token_file} was refused"
        else:
            where = f"there is no MODELWARD_TOKEN and no {token_file}"
        hint = (
            f"{where.capitalize()}; set MODELWARD_TOKEN to the token the service printed "
            "at start (it keeps it in its MODELWARD_HOME/api-token)."
        )
        return cls(
            info.url,
            settings.api_token or _read_token(settings),
            timeout_s=timeout_s,
            token_hint=hint,
        )

    def get(self, path: str) -> Any:
        """GET ``path`` and return its JSON."""
        return self._request("GET", path)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST ``body`` to ``path`` and return the answer's JSON."""
        return self._request("POST", path, body)

    def put(self, path: str, body: dict[str, Any]) -> Any:
        """PUT ``body`` to ``path`` and return the answer's JSON."""
        return self._request("PUT", path, body)

    def delete(self, path: str) -> Any:
        """DELETE ``path`` and return the answer's JSON."""
        return self._request("DELETE", path)

    def close(self) -> None:
        """Close the connection."""
        self._http.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.ConnectError:
            raise not_running(f"nothing answers at {self.url}") from None
        except httpx.TimeoutException:
            raise ModelwardError(
                f"the service at {self.url} did not answer within {TIMEOUT_S:.0f}s",
                hint="It may be overloaded; try again, or restart it with 'modelward serve'.",
            ) from None
        except httpx.HTTPError as exc:
            raise ModelwardError(
                f"talking to the service at {self.url} failed: {exc}",
                hint="Check that the service is running with 'modelward serve'.",
            ) from None
        if response.is_error:
            error = ServiceRequestError.from_response(response)
            if response.status_code == 401:
                error.hint = self._token_hint
            raise error
        return response.json()


def _read_token(settings: Settings) -> str | None:
    try:
        return settings.api_token_file.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
