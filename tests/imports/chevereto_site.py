"""A Chevereto-shaped site for import_chevereto's tests and benchmark: a MariaDB database
with Chevereto's tables (V4.2: salt and padding in `variables`; V3: in `settings`, fewer
columns, no tags, no videos) and a media tree (`images/...` with `.th`/`.md`/`.fr`
derivatives), built from a few dataclasses.

    site = ChevSite(version="4.2", salt="2c4d6f8a", padding=999)
    alice = site.user("alice", password="pw")
    site.image(user=alice, title="Cat")
    db_url = site.create(server_url=os.environ["TEST_MARIADB_URL"], media_root=tmp_path)
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import bcrypt
import pymysql
from PIL import Image as PILImage

# The site's local time runs 3 hours behind UTC: `*_date` columns and date folders use it,
# so an upload at 01:30 UTC lives in the previous day's folder.
LOCAL_OFFSET = timedelta(hours=-3)


def php_bcrypt(password: str, *, rounds: int = 4) -> str:
    """What PHP's password_hash() stores: `$2y$`, the password cut at 72 bytes."""
    digest = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds=rounds)).decode()
    return "$2y$" + digest[4:]


def picture(width: int, height: int, color: tuple[int, int, int], fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), color).save(out, fmt)
    return out.getvalue()


@dataclass
class User:
    id: int
    username: str
    password: str | None = "pw-secret-123"
    name: str = ""
    email: str = ""
    status: str = "valid"
    is_admin: bool = False
    is_manager: bool = False
    is_private: bool = False
    bio: str = ""
    website: str = ""
    avatar: str = ""  # a file name under images/users/{id_encoded}/, written as a JPEG
    date: datetime = field(default_factory=lambda: datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC))


@dataclass
class Album:
    id: int
    user_id: int
    name: str
    privacy: str = "public"
    password: str = ""
    description: str = ""
    parent_id: int | None = None
    cover_id: int | None = None
    views: int = 0
    date: datetime = field(default_factory=lambda: datetime(2021, 5, 6, 7, 8, 9, tzinfo=UTC))


@dataclass
class Image:
    id: int
    user_id: int | None
    album_id: int | None = None
    name: str = ""
    extension: str = "jpg"
    title: str = ""
    description: str = ""
    date: datetime = field(default_factory=lambda: datetime(2022, 3, 4, 12, 0, 0, tzinfo=UTC))
    type: int = 1  # 1 image, 2 video
    storage_mode: str = "datefolder"
    path: str | None = None  # for storage mode "path": the folder
    nsfw: bool = False
    is_approved: bool = True
    views: int = 0
    category_id: int | None = None
    tags: tuple[str, ...] = ()
    uploader_ip: str = "203.0.113.9"
    expires: datetime | None = None
    width: int = 40
    height: int = 30
    duration: int | None = None
    with_thumb: bool = True
    with_medium: bool = False
    with_frame: bool = False
    write_file: bool = True  # False: the row exists, the file is missing
    content: bytes = b""

    @property
    def local_date(self) -> datetime:
        return (self.date + LOCAL_OFFSET).replace(tzinfo=None)

    @property
    def folder(self) -> str:
        if self.storage_mode == "datefolder":
            return self.local_date.strftime("images/%Y/%m/%d/")
        if self.storage_mode == "direct":
            return "images/"
        if self.storage_mode == "old":
            return "images/old/"
        return f"images/{(self.path or '').strip('/')}/"

    @property
    def storage_name(self) -> str:
        return f"{self.folder}{self.name}.{self.extension}"

    def derivative(self, marker: str) -> str:
        ext = "jpeg" if self.type == 2 else self.extension  # video stills are JPEG
        return f"{self.folder}{self.name}.{marker}.{ext}"


@dataclass
class Like:
    user_id: int
    content_type: str
    content_id: int
    date: datetime = field(default_factory=lambda: datetime(2023, 1, 1, tzinfo=UTC))


@dataclass
class Follow:
    user_id: int
    followed_user_id: int
    date: datetime = field(default_factory=lambda: datetime(2023, 2, 2, tzinfo=UTC))


@dataclass
class ChevSite:
    version: str = "4.2"  # "4.2" (variables table) or "3" (settings table, older columns)
    salt: str = "2c4d6f8a"
    padding: int = 999
    prefix: str = "chv_"
    users: list[User] = field(default_factory=list)
    albums: list[Album] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    categories: list[tuple[int, str, str]] = field(default_factory=list)
    likes: list[Like] = field(default_factory=list)
    follows: list[Follow] = field(default_factory=list)
    # (ip, message, expires) rows of `ip_bans`.
    bans: list[tuple[str, str, datetime | None]] = field(default_factory=list)
    # Rows written to the database as they are, for orphan tests: (table, column → value).
    raw_rows: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    bcrypt_rounds: int = 4

    @property
    def v4(self) -> bool:
        return not self.version.startswith("3")

    # --- building ------------------------------------------------------------------------

    def user(self, username: str, **kw: object) -> User:
        kw.setdefault("email", f"{username.lower()}@example.org")
        row = User(id=kw.pop("id", None) or len(self.users) + 1, username=username, **kw)  # type: ignore[arg-type]
        self.users.append(row)
        return row

    def album(self, owner: User, name: str, **kw: object) -> Album:
        row = Album(
            id=kw.pop("id", None) or len(self.albums) + 1, user_id=owner.id, name=name, **kw
        )  # type: ignore[arg-type]
        self.albums.append(row)
        return row

    def image(self, user: User | None = None, **kw: object) -> Image:
        image_id = kw.pop("id", None) or (self.images[-1].id + 1 if self.images else 1)
        kw.setdefault("name", f"pic-{image_id}")
        row = Image(id=image_id, user_id=user.id if user else None, **kw)  # type: ignore[arg-type]
        self.images.append(row)
        return row

    def category(self, category_id: int, name: str, url_key: str) -> None:
        self.categories.append((category_id, name, url_key))

    # --- writing -------------------------------------------------------------------------

    def create(self, *, server_url: str, media_root: Path, dbname: str | None = None) -> str:
        """Create the database and the media tree; return the database's URL (as root)."""
        dbname = dbname or f"chv_{secrets.token_hex(4)}"
        conn = connect(server_url)
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE `{dbname}` CHARACTER SET utf8mb4")
                cur.execute(f"USE `{dbname}`")
                for statement in self.schema():
                    cur.execute(statement)
                self._insert(cur)
            conn.commit()
        finally:
            conn.close()
        self._write_media(media_root)
        return server_url.rstrip("/") + "/" + dbname

    def schema(self) -> list[str]:
        p, v4 = self.prefix, self.v4
        image_v4 = (
            "image_type TINYINT NOT NULL DEFAULT 1, image_duration INT NULL, "
            "image_is_360 TINYINT NOT NULL DEFAULT 0, image_frame_size INT NOT NULL DEFAULT 0, "
            "image_is_approved TINYINT NOT NULL DEFAULT 1, "
            if v4
            else ""
        )
        album_v4 = "album_parent_id BIGINT NULL, album_cover_id BIGINT NULL, " if v4 else ""
        statements = [
            f"""CREATE TABLE {p}users (user_id BIGINT PRIMARY KEY AUTO_INCREMENT,
                user_name VARCHAR(255), user_username VARCHAR(255) NOT NULL,
                user_date DATETIME NOT NULL, user_date_gmt DATETIME NOT NULL,
                user_email VARCHAR(255), user_avatar_filename VARCHAR(255),
                user_background_filename VARCHAR(255), user_website TEXT, user_bio TEXT,
                user_timezone VARCHAR(255), user_language VARCHAR(255),
                user_status VARCHAR(32) NOT NULL DEFAULT 'valid',
                user_is_admin TINYINT NOT NULL DEFAULT 0,
                user_is_manager TINYINT NOT NULL DEFAULT 0,
                user_is_private TINYINT NOT NULL DEFAULT 0,
                user_show_nsfw_listings TINYINT NOT NULL DEFAULT 0,
                user_image_count BIGINT NOT NULL DEFAULT 0,
                user_album_count BIGINT NOT NULL DEFAULT 0,
                user_registration_ip VARCHAR(255), user_likes BIGINT NOT NULL DEFAULT 0,
                user_liked BIGINT NOT NULL DEFAULT 0, user_following BIGINT NOT NULL DEFAULT 0,
                user_followers BIGINT NOT NULL DEFAULT 0,
                user_content_views BIGINT NOT NULL DEFAULT 0)""",
            f"""CREATE TABLE {p}login_passwords (
                login_password_id BIGINT PRIMARY KEY AUTO_INCREMENT,
                login_password_user_id BIGINT NOT NULL, login_password_date_gmt DATETIME,
                login_password_hash VARCHAR(255) NOT NULL)""",
            f"""CREATE TABLE {p}images (image_id BIGINT PRIMARY KEY AUTO_INCREMENT,
                image_name VARCHAR(255) NOT NULL, image_extension VARCHAR(255) NOT NULL,
                image_size INT NOT NULL, image_width INT NOT NULL, image_height INT NOT NULL,
                image_date DATETIME NOT NULL, image_date_gmt DATETIME NOT NULL,
                image_title VARCHAR(100), image_description TEXT,
                image_nsfw TINYINT NOT NULL DEFAULT 0,
                image_user_id BIGINT NULL, image_album_id BIGINT NULL,
                image_uploader_ip VARCHAR(255), image_storage_mode VARCHAR(16) NOT NULL,
                image_path VARCHAR(4096), image_storage_id BIGINT NULL, image_md5 VARCHAR(32),
                image_source_md5 VARCHAR(32), image_original_filename TEXT,
                image_original_exifdata LONGTEXT, image_views BIGINT NOT NULL DEFAULT 0,
                image_category_id BIGINT NULL, image_chain TINYINT NOT NULL DEFAULT 5,
                image_thumb_size INT NOT NULL DEFAULT 0, image_medium_size INT NOT NULL DEFAULT 0,
                image_expiration_date_gmt DATETIME NULL, image_likes BIGINT NOT NULL DEFAULT 0,
                image_is_animated TINYINT NOT NULL DEFAULT 0, {image_v4}
                KEY (image_user_id))""",
            f"""CREATE TABLE {p}albums (album_id BIGINT PRIMARY KEY AUTO_INCREMENT,
                album_name VARCHAR(100) NOT NULL, album_user_id BIGINT NULL,
                album_date DATETIME NOT NULL, album_date_gmt DATETIME NOT NULL,
                album_creation_ip VARCHAR(255), album_privacy VARCHAR(32) NOT NULL DEFAULT 'public',
                album_password TEXT, album_image_count BIGINT NOT NULL DEFAULT 0,
                album_description TEXT, album_likes BIGINT NOT NULL DEFAULT 0,
                {album_v4} album_views BIGINT NOT NULL DEFAULT 0)""",
            f"""CREATE TABLE {p}categories (category_id BIGINT PRIMARY KEY AUTO_INCREMENT,
                category_name VARCHAR(255) NOT NULL, category_url_key VARCHAR(255) NOT NULL,
                category_description TEXT)""",
            f"""CREATE TABLE {p}likes (like_id BIGINT PRIMARY KEY AUTO_INCREMENT,
                like_date DATETIME NOT NULL, like_date_gmt DATETIME NOT NULL,
                like_user_id BIGINT NOT NULL, like_content_type VARCHAR(16) NOT NULL,
                like_content_id BIGINT NOT NULL, like_content_user_id BIGINT NULL,
                like_ip VARCHAR(255))""",
            f"""CREATE TABLE {p}follows (follow_id BIGINT PRIMARY KEY AUTO_INCREMENT,
                follow_date DATETIME NOT NULL, follow_date_gmt DATETIME NOT NULL,
                follow_user_id BIGINT NOT NULL, follow_followed_user_id BIGINT NOT NULL,
                follow_ip VARCHAR(255))""",
            f"""CREATE TABLE {p}ip_bans (ip_ban_id BIGINT PRIMARY KEY AUTO_INCREMENT,
                ip_ban_date DATETIME NOT NULL, ip_ban_date_gmt DATETIME NOT NULL,
                ip_ban_expires DATETIME NULL, ip_ban_expires_gmt DATETIME NULL,
                ip_ban_ip VARCHAR(255) NOT NULL, ip_ban_message TEXT)""",
            f"""CREATE TABLE {p}settings (setting_id BIGINT PRIMARY KEY AUTO_INCREMENT,
                setting_name VARCHAR(255) NOT NULL, setting_value TEXT,
                setting_default TEXT, setting_typeset VARCHAR(32))""",
        ]
        if v4:
            statements += [
                f"""CREATE TABLE {p}variables (variable_id BIGINT PRIMARY KEY AUTO_INCREMENT,
                    variable_name VARCHAR(255) NOT NULL, variable_datetime_utc DATETIME,
                    variable_value TEXT, variable_type VARCHAR(32))""",
                f"""CREATE TABLE {p}tags (tag_id BIGINT PRIMARY KEY AUTO_INCREMENT,
                    tag_name VARCHAR(32) NOT NULL, tag_description TEXT, tag_user_id BIGINT NULL,
                    tag_date_gmt DATETIME, tag_files BIGINT NOT NULL DEFAULT 0,
                    tag_views BIGINT NOT NULL DEFAULT 0)""",
                f"""CREATE TABLE {p}tags_files (tag_file_tag_id BIGINT NOT NULL,
                    tag_file_file_id BIGINT NOT NULL,
                    PRIMARY KEY (tag_file_tag_id, tag_file_file_id))""",
            ]
        return statements

    def _insert(self, cur: pymysql.cursors.Cursor) -> None:
        p = self.prefix
        for u in self.users:
            _row(cur, f"{p}users", user_id=u.id, user_name=u.name, user_username=u.username,
                 user_date=_local(u.date), user_date_gmt=_gmt(u.date), user_email=u.email,
                 user_website=u.website, user_bio=u.bio, user_status=u.status,
                 user_is_admin=int(u.is_admin), user_is_manager=int(u.is_manager),
                 user_is_private=int(u.is_private), user_timezone="America/Santiago",
                 user_avatar_filename=u.avatar or None)  # fmt: skip
            if u.password is not None:
                _row(cur, f"{p}login_passwords", login_password_user_id=u.id,
                     login_password_date_gmt=_gmt(u.date),
                     login_password_hash=php_bcrypt(u.password, rounds=self.bcrypt_rounds),
                )  # fmt: skip
        for a in self.albums:
            values = dict(album_id=a.id, album_name=a.name, album_user_id=a.user_id,
                          album_date=_local(a.date), album_date_gmt=_gmt(a.date),
                          album_privacy=a.privacy, album_password=a.password or None,
                          album_description=a.description, album_views=a.views)  # fmt: skip
            if self.v4:
                values.update(album_parent_id=a.parent_id, album_cover_id=a.cover_id)
            _row(cur, f"{p}albums", **values)
        for category_id, name, url_key in self.categories:
            _row(cur, f"{p}categories", category_id=category_id, category_name=name,
                 category_url_key=url_key)  # fmt: skip
        self._insert_images(cur)
        for like in self.likes:
            _row(cur, f"{p}likes", like_date=_local(like.date), like_date_gmt=_gmt(like.date),
                 like_user_id=like.user_id, like_content_type=like.content_type,
                 like_content_id=like.content_id)  # fmt: skip
        for f in self.follows:
            _row(cur, f"{p}follows", follow_date=_local(f.date), follow_date_gmt=_gmt(f.date),
                 follow_user_id=f.user_id, follow_followed_user_id=f.followed_user_id)  # fmt: skip
        now = datetime(2024, 1, 1, tzinfo=UTC)
        for ip, message, expires in self.bans:
            _row(cur, f"{p}ip_bans", ip_ban_date=_local(now), ip_ban_date_gmt=_gmt(now),
                 ip_ban_expires=_local(expires) if expires else None,
                 ip_ban_expires_gmt=_gmt(expires) if expires else None,
                 ip_ban_ip=ip, ip_ban_message=message)  # fmt: skip
        self._insert_settings(cur)
        for table, values in self.raw_rows:
            _row(cur, f"{p}{table}", **values)

    def _insert_images(self, cur: pymysql.cursors.Cursor) -> None:
        p = self.prefix
        rows: list[dict[str, object]] = []
        tags: dict[str, int] = {}
        tag_files: list[tuple[int, int]] = []
        for im in self.images:
            chain = 4 | (1 if im.with_thumb else 0) | (2 if im.with_medium else 0)
            values: dict[str, object] = dict(
                image_id=im.id, image_name=im.name, image_extension=im.extension,
                image_size=len(self.content_of(im)), image_width=im.width,
                image_height=im.height, image_date=im.local_date, image_date_gmt=_gmt(im.date),
                image_title=im.title or None, image_description=im.description or None,
                image_nsfw=int(im.nsfw), image_user_id=im.user_id, image_album_id=im.album_id,
                image_uploader_ip=im.uploader_ip, image_storage_mode=im.storage_mode,
                image_path=im.path, image_md5=None,
                image_original_filename=f"{im.name}.{im.extension}",
                image_views=im.views, image_category_id=im.category_id, image_chain=chain,
                image_expiration_date_gmt=_gmt(im.expires) if im.expires else None,
            )  # fmt: skip
            if self.v4:
                values.update(image_type=im.type, image_duration=im.duration,
                              image_is_approved=int(im.is_approved))  # fmt: skip
            rows.append(values)
            for name in im.tags:
                tag_id = tags.setdefault(name, len(tags) + 1)
                tag_files.append((tag_id, im.id))
        if rows:
            columns = list(rows[0])
            sql = (
                f"INSERT INTO {p}images ({', '.join(columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))})"
            )
            for start in range(0, len(rows), 2000):
                cur.executemany(
                    sql, [tuple(r[c] for c in columns) for r in rows[start : start + 2000]]
                )
        if self.v4:
            for name, tag_id in tags.items():
                _row(cur, f"{p}tags", tag_id=tag_id, tag_name=name)
            if tag_files:
                cur.executemany(f"INSERT INTO {p}tags_files VALUES (%s, %s)", tag_files)

    def _insert_settings(self, cur: pymysql.cursors.Cursor) -> None:
        p = self.prefix
        if self.v4:
            # 4.2+: the salt and padding moved to `variables`; settings keep unrelated rows.
            _row(cur, f"{p}variables", variable_name="crypt_salt", variable_value=self.salt)
            _row(cur, f"{p}variables", variable_name="id_padding", variable_value=str(self.padding))
            _row(cur, f"{p}settings", setting_name="website_name", setting_value="Old site")
        else:
            _row(cur, f"{p}settings", setting_name="crypt_salt", setting_value=self.salt)
            if self.padding:
                _row(
                    cur, f"{p}settings", setting_name="id_padding", setting_value=str(self.padding)
                )

    # --- media ---------------------------------------------------------------------------

    def content_of(self, im: Image) -> bytes:
        if not im.content:
            if im.type == 2:
                im.content = b"\x00\x00\x00\x18ftypmp42" + im.name.encode() * 8
            else:
                fmt = "PNG" if im.extension == "png" else "JPEG"
                im.content = picture(im.width, im.height, _color(im.id), fmt)
        return im.content

    def _write_media(self, root: Path) -> None:
        from chevereto.core.idcodec import IdCodec

        codec = IdCodec(self.salt, self.padding)
        for u in self.users:
            if u.avatar:
                folder = root / "images" / "users" / codec.encode(u.id)
                folder.mkdir(parents=True, exist_ok=True)
                (folder / u.avatar).write_bytes(picture(64, 64, (200, 30, 30)))
        for im in self.images:
            if not im.write_file:
                continue
            target = root / im.storage_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.content_of(im))
            still = "PNG" if im.extension == "png" and im.type == 1 else "JPEG"
            if im.with_thumb:
                (root / im.derivative("th")).write_bytes(picture(16, 12, (9, 9, 9), still))
            if im.with_medium:
                (root / im.derivative("md")).write_bytes(picture(20, 15, (7, 7, 7), still))
            if im.with_frame:
                (root / im.derivative("fr")).write_bytes(picture(40, 30, (5, 5, 5), "JPEG"))


def _color(n: int) -> tuple[int, int, int]:
    return (n * 37 % 256, n * 91 % 256, n * 13 % 256)


def _gmt(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None)


def _local(when: datetime) -> datetime:
    return _gmt(when) + LOCAL_OFFSET


def _row(cur: pymysql.cursors.Cursor, table: str, **values: object) -> None:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    cur.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))


def connect(url: str, database: str | None = None) -> pymysql.connections.Connection:
    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        database=database or (parts.path.strip("/") or None),
        charset="utf8mb4",
        autocommit=False,
    )


def read_only_url(db_url: str, *, user: str = "chv_reader", password: str = "reader-pw") -> str:
    """An account that may only SELECT from the database (what the importer gets)."""
    parts = urlsplit(db_url)
    dbname = parts.path.strip("/")
    conn = connect(db_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"CREATE USER IF NOT EXISTS '{user}'@'127.0.0.1' IDENTIFIED BY %s", (password,)
            )
            cur.execute(f"GRANT SELECT ON `{dbname}`.* TO '{user}'@'127.0.0.1'")
        conn.commit()
    finally:
        conn.close()
    return f"mysql://{user}:{password}@{parts.hostname}:{parts.port}/{dbname}"


def drop(db_url: str) -> None:
    parts = urlsplit(db_url)
    conn = connect(db_url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{parts.path.strip('/')}`")
        conn.commit()
    finally:
        conn.close()
