"""The account controller: owns the :class:`ApiClient` and the signed-in user (STYLE habit 3).

Widgets call its methods, which run the API calls in the background (``app.ui.ops``) and emit
``logged_in`` / ``logged_out`` / ``profile_changed`` on the UI thread. Every other part of the
UI gets the client from here, so a server change or a logout reaches all of them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from app.api.client import ApiClient, ApiError, ClientOptions, Session, UserInfo
from app.ui.errors import is_session_expired
from app.ui.ops import Op, run_op
from app.ui.qt import QObject, Signal
from app.ui.settings import ClientSettings

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]
Failure = Callable[[BaseException], None]


class Account(QObject):
    """Signed-in state of the client. ``client`` is replaced when the server address changes."""

    logged_in = Signal(str)
    logged_out = Signal(str)  # reason ("" for a user logout)
    profile_changed = Signal(object)  # UserInfo

    def __init__(self, settings: ClientSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.client = self._make_client(settings.server)
        self.profile = UserInfo()

    def _make_client(self, server: str) -> ApiClient:
        return ApiClient(server, ClientOptions(session_file=self.settings.session_file, ca_file=self.settings.ca_file))

    @property
    def userid(self) -> str:
        return self.client.session.userid if self.client.session else ""

    @property
    def is_logged_in(self) -> bool:
        return self.client.session is not None

    def set_server(self, server: str) -> None:
        """Point the client at another server (logs out of the current one)."""
        server = server.strip().rstrip("/")
        if server == self.client.server:
            return
        was_in = self.is_logged_in
        self.client = self._make_client(server)
        self.settings.server = server
        self.settings.saved_server = None  # the user's own choice is remembered
        self.settings.save()
        if was_in:
            self.logged_out.emit("server changed")

    # --- operations (all in the background) -------------------------------------------
    def auto_login(self, on_done: Callback, on_failure: Failure) -> Op:
        """Restore the cached session; ``on_done(Session | None)``."""
        client = self.client

        def work() -> tuple[Session | None, UserInfo]:
            s = client.auto_login()
            return s, (self._fetch_profile(client) if s is not None else UserInfo())

        def done(result: tuple[Session | None, UserInfo]) -> None:
            s, info = result
            if s is not None:
                self.profile = info
                self._signed_in(s.userid)
            on_done(s)

        return run_op(self, work, done, on_failure, name="auto_login")

    def login(self, userid: str, password: str, on_done: Callback, on_failure: Failure,
              register: bool = False) -> Op:
        """Log in (after registering when ``register``); ``on_done(Session)``."""
        client = self.client

        def work() -> tuple[Session, UserInfo]:
            if register:
                client.register(userid, password)
            s = client.login(userid, password)
            return s, self._fetch_profile(client)

        def done(result: tuple[Session, UserInfo]) -> None:
            s, self.profile = result
            self.settings.last_user = s.userid
            self.settings.save()
            self._signed_in(s.userid)
            on_done(s)

        return run_op(self, work, done, on_failure, name="register" if register else "login")

    def logout(self, reason: str = "") -> None:
        """Forget the session (cached file included) and tell the UI."""
        log.info("logout %s%s", self.userid, f" ({reason})" if reason else "")
        session = self.client.session
        self.client.logout(revoke=False)
        if session is not None:  # the server revokes its tokens (off the GUI thread; best effort)
            client = self.client
            threading.Thread(target=client.revoke, args=(session,), daemon=True, name="logout").start()
        self.profile = UserInfo()
        self.logged_out.emit(reason)

    def reload_profile(self, on_failure: Failure | None = None) -> Op:
        client = self.client
        return run_op(self, lambda: self._fetch_profile(client), self._profile_loaded,
                      on_failure or self.handle_failure, name="get_user_info")

    def save_profile(self, info: UserInfo, on_done: Callback, on_failure: Failure) -> Op:
        """Send all four profile fields, then read them back from the server."""
        client = self.client

        def work() -> UserInfo:
            client.upload_user_info(nickname=info.nickname, avatar=info.avatar, sex=info.sex,
                                    frontcover=info.frontcover)
            return self._fetch_profile(client)

        def done(u: UserInfo) -> None:
            self._profile_loaded(u)
            on_done(u)

        return run_op(self, work, done, on_failure, name="upload_user_info")

    def handle_failure(self, exc: BaseException) -> bool:
        """Shared reaction to failures of signed calls: a dead session logs out. True if handled."""
        if is_session_expired(exc) and self.is_logged_in:
            self.logout("session expired")
            return True
        return False

    # --- internals --------------------------------------------------------------------
    def _fetch_profile(self, client: ApiClient) -> UserInfo:
        try:
            info = client.get_user_info()
        except ApiError as e:
            if e.code == ApiError.NETWORK:
                raise
            log.warning("profile not loaded: %s", e)
            return UserInfo(nickname=client.session.userid if client.session else "")
        return info  # runs in a worker: the UI thread stores it (_profile_loaded / done callbacks)

    def _signed_in(self, userid: str) -> None:
        log.info("signed in as %s on %s", userid, self.client.server)
        self.logged_in.emit(userid)
        self.profile_changed.emit(self.profile)

    def _profile_loaded(self, info: UserInfo) -> None:
        self.profile = info
        self.profile_changed.emit(info)
