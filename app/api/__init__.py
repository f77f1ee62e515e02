"""Business-server client (no Qt)."""

from app.api.client import ApiClient, ApiError, ClientOptions, Session

__all__ = ["ApiClient", "ApiError", "ClientOptions", "Session"]
