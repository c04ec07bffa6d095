"""gunicorn's logger in the product's JSON lines (`logger_class` in gunicorn.conf.py when
LOG_FORMAT is json): one access line per request with the correlation id the response carries
(X-Correlation-ID, set by the middleware and by the webhook fast path), and gunicorn's own
messages in the same shape as the application's (imperium.core.logging.JsonFormatter)."""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from imperium.core.logging import JsonFormatter


class JsonLogger(glogging.Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not getattr(self, "access_log_enabled", self.cfg.accesslog is not None):
            return
        headers = {str(name).lower(): value for name, value in (getattr(resp, "headers", None) or [])}
        status = getattr(resp, "status_code", None) or str(getattr(resp, "status", "") or "").split(" ", 1)[0]
        method = environ.get("REQUEST_METHOD", "-")
        path = environ.get("PATH_INFO", "-")
        fields = {
            "correlation_id": headers.get("x-correlation-id") or environ.get("HTTP_X_CORRELATION_ID") or "-",
            "method": method,
            "path": path,
            "status": int(status) if str(status).isdigit() else status,
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "bytes": getattr(resp, "sent", None),
            "remote": environ.get("REMOTE_ADDR", "-"),
            "user_agent": environ.get("HTTP_USER_AGENT", "-"),
        }
        try:
            self.access_log.info("%s %s %s", method, path, status, extra=fields)
        except Exception:  # never fail a request over its log line
            self.error("access log line failed")
