"""covering index for replay paging: (listed, create_time, id)

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vods") as b:
        b.drop_index("ix_vods_listed_create")
        b.create_index("ix_vods_listed_create_id", ["listed", "create_time", "id"])


def downgrade() -> None:
    with op.batch_alter_table("vods") as b:
        b.drop_index("ix_vods_listed_create_id")
        b.create_index("ix_vods_listed_create", ["listed", "create_time"])
