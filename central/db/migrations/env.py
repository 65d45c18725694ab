from __future__ import annotations

from alembic import context

from central.db.engine import make_engine
from central.db.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""
assert url, "set sqlalchemy.url"


def run() -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
