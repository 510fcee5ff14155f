"""The versions an operator (or a bug report) needs: Kiln, Django, Polars, the engine, the database."""

from __future__ import annotations

import functools
import platform
import sqlite3

import django
import huey
import polars

import kiln
from kiln.engine import ENGINE_VERSION


@functools.cache
def versions() -> dict[str, str]:
    return {
        "kiln": kiln.__version__,
        "django": django.get_version(),
        "polars": polars.__version__,
        "engine": ENGINE_VERSION,
        "python": platform.python_version(),
        "huey": huey.__version__,
    }


def database_version(connection) -> str:
    """``PostgreSQL 15.20`` or ``SQLite 3.40.1``."""
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        number = connection.pg_version  # e.g. 150020
        major, minor = divmod(number, 10000)
        return f"PostgreSQL {major}.{minor}" if major >= 10 else f"PostgreSQL {number}"
    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    return connection.display_name
