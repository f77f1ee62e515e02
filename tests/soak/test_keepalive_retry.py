"""The RoomService heartbeat against the HTTP keep-alive timeout (issue 18).

A 10-minute soak saw 12 of 121 ``anchor_heartbeat`` calls fail with ConnectionResetError /
RemoteDisconnected: the 5 s heartbeat raced the server's 5 s keep-alive idle timeout and the
clients did not repeat a request whose pooled connection the server had just closed. Now the
server keeps idle connections longer than the clients' intervals, and the clients repeat an
idempotent request once (a signed one re-signed with a new nonce, so the replay ledger accepts it).
"""

from __future__ import annotations

import http.client
import time

import pytest

from app.api.client import ApiClient, ApiError
from app.api.roomservice import RoomServiceClient
from server.config import LimitsConfig
from tests.soak.closing_proxy import ClosingProxy

pytestmark = pytest.mark.timeout(60)


def test_heartbeat_and_lists_survive_a_reset_pooled_connection(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    proxy = ClosingProxy(sp.http_port)
    try:
        api = ApiClient(proxy.base)
        api.register("soak_retry1", "secret-pass-1")  # connection 1, request 1
        with pytest.raises(ApiError) as err:
            api.login("soak_retry1", "secret-pass-1")  # connection 1 again: reset; not a read, not repeated
        assert err.value.code == ApiError.NETWORK
        api.login("soak_retry1", "secret-pass-1")  # a fresh connection
        # signed read: the first try is reset, the repeat goes out re-signed with a new nonce
        before = proxy.resets
        assert api.get_vod_list() == []
        assert proxy.resets == before + 1, "the pooled connection was reset once and the read repeated"
        assert api.get_user_info() is not None
        sign = api.session.roomservice_sign  # type: ignore[union-attr]
        direct = RoomServiceClient(sp.http_base, sign.sdkAppID, sign.userID, sign.userSig)
        room = direct.create_room("soak retry")  # not through the proxy
        rs = RoomServiceClient.for_session(api.session)  # type: ignore[arg-type]
        rs.login()  # request 1 of its connection
        for _ in range(3):  # every heartbeat goes out on a pooled connection the "server" resets
            before = proxy.resets
            rs.anchor_heartbeat(room)
            assert proxy.resets == before + 1
        before = proxy.resets
        assert rs.get_room_list() == []  # (listed once a stream is live)
        assert proxy.resets == before + 1
        before = proxy.resets
        with pytest.raises(ApiError) as err:
            rs.destroy_room(room)  # not idempotent-safe: the reset reaches the caller
        assert err.value.code == ApiError.NETWORK and proxy.resets == before + 1
    finally:
        proxy.close()


def test_server_keepalive_outlasts_the_heartbeat(module_server) -> None:  # type: ignore[no-untyped-def]
    """An idle keep-alive connection must still be open when the next 5 s heartbeat goes out."""
    assert LimitsConfig().http_keepalive_timeout >= 15.0
    sp = module_server
    conn = http.client.HTTPConnection("127.0.0.1", sp.http_port, timeout=10)
    try:
        conn.request("GET", "/no-such-page")
        conn.getresponse().read()  # the whole response (head and body), as a keep-alive client does
        first = conn.sock
        time.sleep(5.6)  # one heartbeat interval plus scheduling slack
        try:
            conn.request("GET", "/no-such-page")
            conn.getresponse().read()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            raise AssertionError("the server closed the idle connection under 5 s") from None
        assert conn.sock is first, "the request did not reuse the idle connection"
    finally:
        conn.close()
