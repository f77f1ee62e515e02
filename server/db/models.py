"""Schema (SQLAlchemy 2 declarative). Alembic migrations in server/db/migrations own the DDL."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    userid: Mapped[str] = mapped_column(String(32), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id of the wire password
    nickname: Mapped[str] = mapped_column(String(128), default="")
    avatar: Mapped[str] = mapped_column(String(512), default="")
    sex: Mapped[int] = mapped_column(Integer, default=-1)
    frontcover: Mapped[str] = mapped_column(String(512), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)


class Token(Base):
    """A login session: access token + refresh token (both rotate on /refresh).

    Only hashes and a salt are stored, never a token (see server/api/sessions.py).
    """

    __tablename__ = "tokens"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the access token
    userid: Mapped[str] = mapped_column(String(32), index=True)
    salt: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[int] = mapped_column(BigInteger)
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the refresh token
    refresh_expires_at: Mapped[int] = mapped_column(BigInteger)


class UsedSignature(Base):
    """Liteav-Sig values already accepted, kept while their request is fresh (replay refusal)."""

    __tablename__ = "used_signatures"
    sig: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class RoomInfo(Base):
    """The anchor's latest /upload_room data, copied into the replay record."""

    __tablename__ = "room_info"
    userid: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    location: Mapped[str] = mapped_column(String(255), default="")
    frontcover: Mapped[str] = mapped_column(String(512), default="")
    updated_at: Mapped[int] = mapped_column(BigInteger)


class LiveStream(Base):
    """State of one stream id, driven by live events (1 begin, 0 end, 200 screenshot)."""

    __tablename__ = "live_streams"
    stream_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    userid: Mapped[str] = mapped_column(String(32), index=True)
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[int] = mapped_column(BigInteger, default=0)
    ended_at: Mapped[int] = mapped_column(BigInteger, default=0)
    cover_url: Mapped[str] = mapped_column(String(512), default="")
    node: Mapped[str] = mapped_column(String(64), default="")  # node whose media server carries it ("" external)
    like_count: Mapped[int] = mapped_column(Integer, default=0)  # totals of the current session
    viewer_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=0)


class Vod(Base):
    """A replay (tb_vod): one recording of an anchor's live session."""

    __tablename__ = "vods"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    userid: Mapped[str] = mapped_column(String(32), index=True)
    stream_id: Mapped[str] = mapped_column(String(64), default="")
    file_id: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    frontcover: Mapped[str] = mapped_column(String(512), default="")
    location: Mapped[str] = mapped_column(String(255), default="")
    play_url: Mapped[str] = mapped_column(String(512), default="")
    hls_play_url: Mapped[str] = mapped_column(String(512), default="")
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    viewer_count: Mapped[int] = mapped_column(Integer, default=0)
    start_time: Mapped[int] = mapped_column(BigInteger, default=0)
    end_time: Mapped[int] = mapped_column(BigInteger, default=0)
    duration: Mapped[int] = mapped_column(Integer, default=0)
    file_size: Mapped[int] = mapped_column(BigInteger, default=0)
    listed: Mapped[bool] = mapped_column(Boolean, default=True)
    create_time: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_vods_listed_create_id", "listed", "create_time", "id"),)


class Ugc(Base):
    """A published short video."""

    __tablename__ = "ugc"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    userid: Mapped[str] = mapped_column(String(32), index=True)
    file_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(255), default="")
    frontcover: Mapped[str] = mapped_column(String(512), default="")
    location: Mapped[str] = mapped_column(String(255), default="")
    play_url: Mapped[str] = mapped_column(String(512), default="")
    create_time: Mapped[int] = mapped_column(BigInteger, index=True)
    __table_args__ = (UniqueConstraint("userid", "file_id", name="uq_ugc_user_file"),)


class Danmaku(Base):
    """A chat text or danmaku sent in a live room, with its time so replays can show it."""

    __tablename__ = "danmaku"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream_id: Mapped[str] = mapped_column(String(64))
    sent_at_ms: Mapped[int] = mapped_column(BigInteger)  # unix ms
    offset_ms: Mapped[int] = mapped_column(BigInteger, default=0)  # from the live session start
    userid: Mapped[str] = mapped_column(String(32))
    nickname: Mapped[str] = mapped_column(String(128), default="")
    type: Mapped[str] = mapped_column(String(16), default="text")  # text | danmaku
    msg: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("ix_danmaku_stream_time", "stream_id", "sent_at_ms"),)
