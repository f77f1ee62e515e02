"""``/delete_account``: signed AND password-confirmed; removes only the signer's account, replays
(rows and recorded files), uploads and sessions; everyone else's data stays."""

from __future__ import annotations

import time

from protocol.errors import ApiCode
from protocol.signing import wire_password
from tests.server.test_api_contract import live_event


def _replay(api, userid: str, file_id: str) -> None:  # type: ignore[no-untyped-def]
    """A listed replay whose MP4/JPEG live in this server's vod dir (as the recorder writes them)."""
    base, vod_dir = f"{api.ctx.config.http_base}/vod", api.ctx.config.media_dir / "vod"
    vod_dir.mkdir(parents=True, exist_ok=True)
    for ext in (".mp4", ".jpg"):
        (vod_dir / f"{file_id}{ext}").write_bytes(b"x")
    sid, now = f"{api.ctx.config.live.bizid}_{userid}", int(time.time())
    assert live_event(api, event_type=1, stream_id=sid, event_time=now - 100)["code"] == 0
    assert live_event(api, event_type=100, stream_id=sid, video_url=f"{base}/{file_id}.mp4", file_id=file_id,
                      start_time=now - 100, end_time=now, duration=100, pic_url=f"{base}/{file_id}.jpg")["code"] == 0


def test_delete_account_is_owner_only_and_complete(api) -> None:  # type: ignore[no-untyped-def]
    gone, stays = api.user("del_gone"), api.user("del_stays")
    _replay(api, "del_gone", "del_gone_f1")
    _replay(api, "del_stays", "del_stays_f1")
    upload = api.ctx.storage.root / "users" / "del_gone" / "cover.jpg"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(b"\xff\xd8\xff")
    pw = wire_password("secret1", "del_gone")
    # a token alone is not enough, nor someone else's signature
    assert gone.call("/delete_account", password=wire_password("wrong", "del_gone"))["code"] == ApiCode.WRONG_PASSWORD
    assert gone.call("/delete_account")["code"] == ApiCode.INVALID_PARAMETER
    assert gone.call("/delete_account", token=stays.token, password=pw)["code"] == ApiCode.BAD_SIGNATURE
    assert {v["file_id"] for v in stays.call("/get_vod_list")["data"]["list"]} == {"del_gone_f1", "del_stays_f1"}
    d = gone.call("/delete_account", password=pw)
    assert d["code"] == 200 and d["data"]["vods"] == 1 and d["data"]["files"] == 3, d
    # the account, its sessions, replay and files are gone; the other user's are untouched
    assert api.login("del_gone")["code"] == ApiCode.USER_NOT_FOUND
    assert gone.call("/get_user_info")["code"] == ApiCode.BAD_SIGNATURE
    assert [v["file_id"] for v in stays.call("/get_vod_list")["data"]["list"]] == ["del_stays_f1"]
    vod_dir = api.ctx.config.media_dir / "vod"
    assert sorted(p.name for p in vod_dir.iterdir()) == ["del_stays_f1.jpg", "del_stays_f1.mp4"]
    assert not upload.parent.exists()


def test_delete_account_removes_what_a_mixed_replay_join_left(api) -> None:  # type: ignore[no-untyped-def]
    """A co-hosted live's join (server/media/replay_mix.py) keeps files beside the replay: its TS
    under a name of each join, its failure count and its lock. They go with the account, also when
    the replay still shows the anchor's own recording (the join failed); no one else's go."""
    gone, _stays = api.user("del_mix"), api.user("del_mix2")
    _replay(api, "del_mix", "del_mix_f1")
    _replay(api, "del_mix2", "del_mix2_f1")
    vod_dir = api.ctx.config.media_dir / "vod"
    left = ["del_mix_f1_mixed.mp4", "del_mix_f1_mixed.m3u8", "del_mix_f1_mixed_0a1b2c3d.ts",
            "del_mix_f1_mixed_deadbeef.ts", "del_mix_f1_mixed.failed", ".del_mix_f1_mixed.lock"]
    others = ["del_mix2_f1_mixed_0a1b2c3d.ts", ".del_mix2_f1_mixed.lock"]
    for name in left + others:
        (vod_dir / name).write_bytes(b"x")
    d = gone.call("/delete_account", password=wire_password("secret1", "del_mix"))
    assert d["code"] == 200 and d["data"]["files"] == 2 + len(left), d
    assert sorted(p.name for p in vod_dir.iterdir()) == sorted(["del_mix2_f1.jpg", "del_mix2_f1.mp4", *others])
