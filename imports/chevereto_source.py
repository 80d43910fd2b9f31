"""Reading a Chevereto database (MySQL/MariaDB) for import_chevereto: SELECTs only.

Tables carry the site's prefix (`chv_` by default). Columns differ between Chevereto
versions (V3 has no videos, tags, nested albums or approval), so every read asks for the
columns the table really has and the importer falls back to defaults for the others.
Rows are read in primary-key order, a page at a time (keyset), so a run holds one page in
memory and a resumed run starts after the last key it finished.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.cursors

Row = dict[str, Any]
# Table and column names in the SQL below are this module's constants and the prefix,
# checked against _PREFIX (S608 is silenced on those lines); values are always parameters.
_PREFIX = re.compile(r"^[A-Za-z0-9_]*$")


class SourceError(Exception):
    """The database cannot be read as a Chevereto site (wrong URL, prefix or tables)."""


def source_connect(url: str) -> pymysql.connections.Connection:
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb"):
        raise SourceError("The database URL starts with mysql:// (mysql://USER:PASS@HOST/DB).")
    database = parts.path.strip("/")
    if not database:
        raise SourceError("The database URL names no database (mysql://USER:PASS@HOST/DB).")
    try:
        return pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            database=database,
            charset="utf8mb4",
            cursorclass=pymysql.cursors.DictCursor,
            # Each page is its own statement: nothing held open between pages, and no
            # writes are ever sent (the importer may be given a read-only account).
            autocommit=True,
            connect_timeout=10,
            read_timeout=600,
        )
    except pymysql.MySQLError as exc:
        raise SourceError(f"Cannot connect to the Chevereto database: {exc}") from exc


class Source:
    """One Chevereto database, with its table prefix."""

    def __init__(self, url: str, prefix: str = "chv_") -> None:
        if not _PREFIX.match(prefix):
            raise SourceError("The table prefix holds letters, digits and underscores only.")
        self.prefix = prefix
        self.conn = source_connect(url)
        self._columns: dict[str, frozenset[str]] = {}
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT table_name AS t, column_name AS c FROM information_schema.columns "
                "WHERE table_schema = DATABASE()"
            )
            found: dict[str, set[str]] = {}
            for row in cur.fetchall():
                table = str(row["t"])
                if table.startswith(prefix):
                    found.setdefault(table[len(prefix) :], set()).add(str(row["c"]).lower())
        self._columns = {name: frozenset(cols) for name, cols in found.items()}
        missing = {"users", "images", "albums"} - set(self._columns)
        if missing:
            raise SourceError(
                f"No Chevereto tables with the prefix '{prefix}' in this database "
                f"(missing: {', '.join(sorted(prefix + m for m in missing))})."
            )

    def close(self) -> None:
        self.conn.close()

    def has(self, table: str, column: str | None = None) -> bool:
        cols = self._columns.get(table)
        return cols is not None and (column is None or column in cols)

    def _table(self, name: str) -> str:
        return f"`{self.prefix}{name}`"

    def query(self, sql: str, args: Iterable[Any] = ()) -> list[Row]:
        with self.conn.cursor() as cur:
            cur.execute(sql, tuple(args))
            return list(cur.fetchall())

    def count(self, table: str) -> int:
        if not self.has(table):
            return 0
        return int(self.query(f"SELECT COUNT(*) AS n FROM {self._table(table)}")[0]["n"])  # noqa: S608

    def max_id(self, table: str, key: str) -> int:
        if not self.has(table):
            return 0
        row = self.query(f"SELECT MAX({key}) AS n FROM {self._table(table)}")[0]  # noqa: S608
        return int(row["n"] or 0)

    def pages(
        self, table: str, key: str, *, after: int = 0, size: int = 500
    ) -> Iterator[list[Row]]:
        """Every row of a table in key order, a page at a time, from after `after`."""
        if not self.has(table):
            return
        while True:
            rows = self.query(
                f"SELECT * FROM {self._table(table)} WHERE {key} > %s ORDER BY {key} LIMIT %s",  # noqa: S608
                (after, size),
            )
            if not rows:
                return
            yield rows
            after = int(rows[-1][key])

    def passwords(self, user_ids: list[int]) -> dict[int, str]:
        """The latest password hash of each user (a user without one signs in otherwise)."""
        if not user_ids or not self.has("login_passwords"):
            return {}
        marks = ", ".join(["%s"] * len(user_ids))
        rows = self.query(
            f"SELECT login_password_user_id AS u, login_password_hash AS h "  # noqa: S608
            f"FROM {self._table('login_passwords')} WHERE login_password_user_id IN ({marks}) "
            f"ORDER BY login_password_id",
            user_ids,
        )
        return {int(r["u"]): str(r["h"]) for r in rows if r["h"]}

    def tags_of(self, image_ids: list[int]) -> dict[int, list[str]]:
        """Tag names of each image (V4.1+; empty on older sites)."""
        if not image_ids or not (self.has("tags") and self.has("tags_files")):
            return {}
        marks = ", ".join(["%s"] * len(image_ids))
        rows = self.query(
            f"SELECT tf.tag_file_file_id AS i, t.tag_name AS n "  # noqa: S608
            f"FROM {self._table('tags_files')} tf JOIN {self._table('tags')} t "
            f"ON t.tag_id = tf.tag_file_tag_id WHERE tf.tag_file_file_id IN ({marks})",
            image_ids,
        )
        found: dict[int, list[str]] = {}
        for r in rows:
            found.setdefault(int(r["i"]), []).append(str(r["n"]))
        return found

    def usernames(self) -> dict[str, str]:
        """Every username (lowercased) → its email (lowercased)."""
        rows = self.query(
            f"SELECT user_username AS u, user_email AS e FROM {self._table('users')}"  # noqa: S608
        )
        return {text(r["u"]).lower(): text(r["e"]).lower() for r in rows}

    def categories(self) -> list[Row]:
        if not self.has("categories"):
            return []
        described = self.has("categories", "category_description")
        description = "category_description" if described else "''"
        return self.query(
            f"SELECT category_id, category_name, category_url_key, {description} "  # noqa: S608
            f"AS category_description FROM {self._table('categories')} ORDER BY category_id"
        )

    def id_settings(self) -> tuple[str, int]:
        """The site's id salt and padding: `variables` since 4.2, `settings` before. A site
        without a padding row encodes ids unpadded (padding 0), as old V3 sites did."""
        values: dict[str, str] = {}
        if self.has("settings"):
            for r in self.query(
                f"SELECT setting_name AS n, setting_value AS v FROM {self._table('settings')} "  # noqa: S608
                "WHERE setting_name IN ('crypt_salt', 'id_padding')"
            ):
                values[str(r["n"])] = "" if r["v"] is None else str(r["v"])
        if self.has("variables"):
            for r in self.query(
                f"SELECT variable_name AS n, variable_value AS v FROM {self._table('variables')} "  # noqa: S608
                "WHERE variable_name IN ('crypt_salt', 'id_padding')"
            ):
                values[str(r["n"])] = "" if r["v"] is None else str(r["v"])
        if "crypt_salt" not in values:
            raise SourceError("The Chevereto database has no crypt_salt (settings or variables).")
        try:
            padding = int(values.get("id_padding") or 0)
        except ValueError as exc:
            raise SourceError(f"id_padding is not a number: {values['id_padding']!r}") from exc
        return values["crypt_salt"], max(padding, 0)


def utc(value: Any) -> datetime | None:
    """A `*_date_gmt` column (naive UTC) as an aware datetime; None for empty or zero dates."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return None


def text(value: Any, limit: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = str(value)
    return value[:limit] if limit is not None else value


def flag(value: Any) -> bool:
    try:
        return bool(int(value or 0))
    except (TypeError, ValueError):
        return False


def number(value: Any, default: int = 0) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return default
