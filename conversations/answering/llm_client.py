"""Client for any OpenAI-compatible chat-completions server (LLM_BASE_URL, LLM_API_KEY,
LLM_MODEL): `POST {LLM_BASE_URL}/chat/completions`. Timeouts, 5xx and 429 are retried with
exponential backoff and jitter, honouring Retry-After (urllib3 Retry, imperium.core.httpretry); other failures raise `IntegrationError`."""

from __future__ import annotations

from typing import Any

import requests

from imperium.core.exceptions import IntegrationError
from imperium.core.httpretry import retrying_session


class LLMClient:
    def __init__(self, base_url: str, *, model: str, api_key: str = "", timeout: float = 20.0, retries: int = 2,
                 backoff: float = 0.3) -> None:
        self.url = f"{base_url.rstrip('/')}/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        # Retries (timeouts, 429, 5xx; Retry-After honoured up to 30 s) happen in urllib3's Retry.
        self.session = retrying_session(retries=retries, backoff=backoff)

    def chat(self, messages: list[dict[str, str]], *, temperature: float = 0.0, max_tokens: int = 600) -> str:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": temperature, "max_tokens": max_tokens}
        try:
            response = self.session.post(self.url, json=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise IntegrationError(f"LLM unreachable at LLM_BASE_URL: {type(exc).__name__}", permanent=False) from None
        if response.status_code < 300:
            try:
                return str(response.json()["choices"][0]["message"]["content"] or "")
            except (ValueError, KeyError, IndexError, TypeError):
                raise IntegrationError("LLM answered with an unexpected body", permanent=False) from None
        permanent = response.status_code < 500 and response.status_code != 429
        hint = " (check LLM_API_KEY)" if response.status_code in (401, 403) else ""
        raise IntegrationError(f"LLM answered {response.status_code}{hint}", permanent=permanent, status=response.status_code)


def llm_client_from_settings() -> LLMClient:
    from django.conf import settings

    return LLMClient(settings.LLM_BASE_URL, model=settings.LLM_MODEL, api_key=settings.LLM_API_KEY,
                     timeout=settings.LLM_TIMEOUT, retries=settings.LLM_RETRIES)
