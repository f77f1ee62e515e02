"""sessions stored as hashes (tokens no longer in the database); live streams remember their node

Every existing session is dropped: users log in again once after this upgrade.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _tokens(columns: list[sa.Column], unique: str) -> None:
    op.create_table("tokens", *columns, sa.UniqueConstraint(unique))
    with op.batch_alter_table("tokens") as b:
        b.create_index(b.f("ix_tokens_userid"), ["userid"], unique=False)


def _drop_tokens() -> None:
    with op.batch_alter_table("tokens") as b:
        b.drop_index(b.f("ix_tokens_userid"))
    op.drop_table("tokens")


def upgrade() -> None:
    _drop_tokens()
    _tokens([
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("userid", sa.String(length=32), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("refresh_hash", sa.String(length=64), nullable=False),
        sa.Column("refresh_expires_at", sa.BigInteger(), nullable=False),
    ], "refresh_hash")
    with op.batch_alter_table("live_streams") as b:
        b.add_column(sa.Column("node", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("live_streams") as b:
        b.drop_column("node")
    _drop_tokens()
    _tokens([
        sa.Column("token", sa.String(length=64), primary_key=True),
        sa.Column("userid", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("refresh_token", sa.String(length=64), nullable=False),
        sa.Column("refresh_expires_at", sa.BigInteger(), nullable=False),
    ], "refresh_token")
