"""The ngshare exchange service with this product's patch layer; run by ngshare's own interpreter.

ngshare 0.6.0 (PyPI, LibreTexts/ngshare) is the exchange of the national path: a JupyterHub service
that keeps releases, submissions and feedback in a database and a storage folder, and takes every
caller's identity from their hub token. It runs unchanged but for four failures measured with it
here, each fixed below before ngshare's own ``main`` runs:

1. **PostgreSQL refuses its schema.** The three file association tables declare ``left_id`` as TEXT
   referencing INTEGER keys (``assignments._id``, ``submissions._id``). SQLite ignores column types;
   PostgreSQL refuses the foreign key ("foreign key constraint ... cannot be implemented") and ngshare
   does not start. Here the columns are INTEGER; the schema is created from the corrected models and
   stamped at ngshare's own alembic head, so its later migrations still apply.
2. **Submission times move by the server's time zone.** ngshare stores aware UTC times in TIMESTAMP
   WITHOUT TIME ZONE columns; PostgreSQL converts them to the session's zone (+8 h on a server set to
   Asia/Shanghai) and ngshare reads them back as UTC: late penalties and sittings would be 8 hours
   off. The session runs in UTC.
3. **A request without a hub identity ends in a crash.** Handlers without ``@authenticated`` use the
   missing user (HTTP 500 and a traceback per request). Every API request without a hub identity is
   refused with 403 before any handler runs.
4. **Secrets and reach.** The database URL comes from the environment, not the command line (which
   every account can read), and on one machine the server listens on loopback only, as the hub does.

ngshare 0.6.0 also needs SQLAlchemy 1.x (with 2.x its releases and submissions are never added to the
session: upstream fd8467e, unreleased), so its environment pins ``SQLAlchemy<2``
(:mod:`course.hub.ngshare`). This file imports nothing of the course: that environment does not have it.

    NGSHARE_DB_URL=postgresql+psycopg2://... [NGSHARE_DB_SCHEMA=ngshare] \\
        <ngshare env>/bin/python -I ngshare_service.py --admins kam-course-admin --storage DIR
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import sys
from typing import Any
from urllib.parse import urlparse

import alembic.command
from ngshare import dbutil, ngshare
from ngshare.database import database as models
from sqlalchemy import Integer, create_engine, inspect, text
from sqlalchemy.engine import make_url

FILE_TABLES = ("assignment_files_assoc_table", "submission_files_assoc_table", "feedback_files_assoc_table")
UNAUTHENTICATED = "Permission denied (no hub identity: send `Authorization: token <your hub API token>`)"


def fix_file_keys() -> None:
    """1: the association tables' ``left_id`` is an INTEGER, like the key it references."""
    for name in FILE_TABLES:
        models.Base.metadata.tables[name].c.left_id.type = Integer()


def database_url(raw: str, schema: str | None) -> str:
    """2: a PostgreSQL session in UTC (and in ``schema``, beside the gradebook's tables); other URLs as given."""
    url = make_url(raw)
    if url.get_backend_name() != "postgresql":
        return raw
    options = "-c timezone=UTC" + (f" -c search_path={schema}" if schema else "")
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


def prepare_database(url: str, schema: str | None) -> None:
    """Create the schema and ngshare's tables (corrected) once, stamped at ngshare's alembic head; else upgrade."""
    engine = create_engine(url)
    try:
        if schema:
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        created = inspect(engine).has_table("alembic_version")
        if not created:
            models.Base.metadata.create_all(engine)
    finally:
        engine.dispose()
    # alembic reads its URL through configparser: a literal % must be doubled
    escaped = url.replace("%", "%%")
    if created:
        dbutil.upgrade(escaped)  # ngshare's own migrations, as its --upgrade-db would run them
    else:
        alembic.command.stamp(dbutil.get_alembic_config(escaped), "head")


def refuse_anonymous() -> None:
    """3: an API request without a hub identity gets 403, not a crash (pages with a login flow keep theirs)."""
    original = ngshare.MyRequestHandler.prepare
    with_login = (ngshare.HomePage, ngshare.Static, ngshare.InitDatabase)

    def prepare(self: Any) -> None:
        original(self)
        if self.user is None and not isinstance(self, with_login):
            self.json_error(403, UNAUTHENTICATED)

    ngshare.MyRequestHandler.prepare = prepare


def listen_where_served() -> None:
    """4: listen on the service URL's host when it is a loopback address (ngshare binds 0.0.0.0)."""
    host = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "")).hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        return

    class Server(ngshare.HTTPServer):
        def listen(self, port: int, address: str = "", **kwargs: Any) -> None:
            super().listen(port, host, **kwargs)

    ngshare.HTTPServer = Server


def main(argv: list[str]) -> None:
    raw = os.environ.get("NGSHARE_DB_URL")
    if not raw:
        raise SystemExit("NGSHARE_DB_URL is not set: the ngshare service needs its database URL in the environment")
    schema = os.environ.get("NGSHARE_DB_SCHEMA") or None
    url = database_url(raw, schema)
    fix_file_keys()
    prepare_database(url, schema)
    refuse_anonymous()
    listen_where_served()
    with contextlib.suppress(KeyboardInterrupt):  # the hub stops its services with SIGINT: a normal end
        ngshare.main(["--no-upgrade-db", "--database", url, *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
