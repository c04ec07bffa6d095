"""requests sessions that retry with urllib3's `Retry`: timeouts, connection errors, 429 and
5xx, exponential backoff with jitter, and the server's `Retry-After` honoured (capped, so a
minutes-long value fails fast instead of holding a worker). For services whose calls are safe to
repeat (embeddings, LLM completions): POST is retried too."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

RETRY_STATUSES = (429, 500, 502, 503, 504)


class CappedRetry(Retry):
    """`Retry` whose wait for a `Retry-After` header is at most `max_retry_after` seconds; a longer
    one ends the retries (the caller gets the 429/503 and decides)."""

    def __init__(self, *args: object, max_retry_after: float = 30.0, **kwargs: object) -> None:
        self.max_retry_after = max_retry_after
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def new(self, **kwargs: object) -> CappedRetry:
        kwargs.setdefault("max_retry_after", self.max_retry_after)
        return super().new(**kwargs)  # type: ignore[return-value]

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None, error: Exception | None = None,
                  _pool: Any = None, _stacktrace: Any = None) -> CappedRetry:
        if response is not None and self.respect_retry_after_header:
            retry_after = self.get_retry_after(response)
            if retry_after is not None and retry_after > self.max_retry_after:
                # Raised here, urllib3 hands the 429/503 itself to the caller (raise_on_status=False).
                raise MaxRetryError(_pool, url, ResponseError(f"Retry-After {retry_after:.0f}s exceeds {self.max_retry_after:.0f}s"))
        return super().increment(method, url, response, error, _pool, _stacktrace)  # type: ignore[return-value]


def retrying_session(*, retries: int, backoff: float, max_retry_after: float = 30.0) -> requests.Session:
    retry = CappedRetry(
        total=retries, connect=retries, read=retries, status=retries, other=0,
        backoff_factor=backoff, backoff_jitter=backoff, status_forcelist=RETRY_STATUSES, allowed_methods=None,
        respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False,
        max_retry_after=max_retry_after,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
