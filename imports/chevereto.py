"""import_chevereto: a Chevereto V3/V4 site (its MySQL database and media folder) brought
into this one, keeping every old URL working.

Uploads and albums keep their ids, and the site takes the old salt and padding, so
`/image/{slug}.{id}`, `/album/...` and the file URLs answer as before; users keep their
usernames (and their ids when free) and their passwords (PHP bcrypt, accounts.hashers).

The run goes phase by phase (users, albums, images, album links, likes, follows, finish),
a page of rows at a time in primary-key order; the job's state holds the phase and the last
key done, and every row is an import item ("user:1", "image:42"), so an interrupted import
resumes where it stopped and imports nothing twice. Rows that cannot be imported (missing
file, unknown user) become issues and the rest goes on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from albums.services import AlbumError, album_hash_password
from chevereto.core.bans import ip_ban_create, network_normalize
from chevereto.core.models import SiteSettings
from imports.chevereto_images import ImageImporter, note
from imports.chevereto_profiles import profiles_import
from imports.chevereto_source import Row, Source, SourceError, flag, number, text, utc
from imports.models import ImportItem
from imports.runner import ImportContext
from social.models import Follow, Like
from uploads.models import Category, Image, Tag

PAGE = 500
PHASES = (
    "users", "albums", "images", "links", "likes", "follows", "bans", "profiles", "finish"
)  # fmt: skip
PRIVACY = {
    "public": Album.Privacy.PUBLIC,
    "password": Album.Privacy.PASSWORD,
    "private": Album.Privacy.PRIVATE,
    "private_but_link": Album.Privacy.PRIVATE_BUT_LINK,
    # Chevereto's "custom" shares with chosen people: nothing here does that, so the
    # album stays with its owner.
    "custom": Album.Privacy.PRIVATE,
}


class ImportRefused(Exception):
    """The target site is not one this import may write into."""


def run(ctx: ImportContext) -> None:
    options = ctx.options
    source = Source(str(options["db"]), str(options.get("prefix") or "chv_"))
    try:
        if "phase" not in ctx.state:
            _start(ctx, source)
        importer = _Importer(ctx, source, str(options["media"]))
        for phase in PHASES[PHASES.index(ctx.state["phase"]) :]:
            if ctx.state["phase"] != phase:
                ctx.save_state(phase=phase)
            getattr(importer, f"phase_{phase}")()
        ctx.save_state(phase="done")
    finally:
        source.close()


def _start(ctx: ImportContext, source: Source) -> None:
    """Check the target can take this site, then take its id salt and padding."""
    salt, padding = source.id_settings()
    if Image.objects.exists() or Album.objects.exists():
        raise ImportRefused(
            "This site already has uploads or albums: a Chevereto site is imported into a "
            "fresh site (its ids and URL encoding would collide with what is here)."
        )
    clashes = _username_clashes(source)
    if clashes:
        raise ImportRefused(
            "Users here already have these usernames (with another email): "
            + ", ".join(sorted(clashes)[:10])
            + ". Rename or remove them first."
        )
    site = SiteSettings.load()
    site.id_salt, site.id_padding = salt[:64], padding
    site.save()
    tables = ("users", "albums", "images", "likes", "follows", "ip_bans")
    total = sum(source.count(t) for t in tables)
    ctx.set_total(total)
    spare = max(
        source.max_id("users", "user_id"), User.objects.aggregate(m=models.Max("pk"))["m"] or 0
    )
    ctx.save_state(phase=PHASES[0], user_spare=spare, salt=salt, padding=padding)


def _username_clashes(source: Source) -> set[str]:
    emails = source.usernames()
    clashes: set[str] = set()
    names = list(emails)
    for start in range(0, len(names), 1000):
        chunk = names[start : start + 1000]
        for username, email in (
            User.objects.annotate(lname=Lower("username"))
            .filter(lname__in=chunk)
            .values_list("username", "email")
        ):
            if not email or email.lower() != emails[username.lower()]:
                clashes.add(username)
    return clashes


def _wildcard_network(value: str) -> str | None:
    """Chevereto's `203.0.*.*` as `203.0.0.0/16`; addresses and CIDRs as they are; None for
    anything else (a wildcard in the middle matches no network)."""
    if "*" in value:
        parts = value.split(".")
        fixed = [p for p in parts if p != "*"]
        if len(parts) != 4 or parts[len(fixed) :] != ["*"] * (4 - len(fixed)) or not fixed:
            return None
        value = ".".join(fixed + ["0"] * (4 - len(fixed))) + f"/{8 * len(fixed)}"
    try:
        return network_normalize(value)
    except ValidationError:
        return None


def _set_dates(model: type[models.Model], field: str, dates: dict[int, datetime]) -> None:
    """Set a date the model fills by itself on insert (auto_now_add) to the old value."""
    if not dates:
        return
    whens = [models.When(pk=pk, then=Value(when)) for pk, when in dates.items()]
    model.objects.filter(pk__in=list(dates)).update(
        **{field: models.Case(*whens, output_field=models.DateTimeField())}
    )


class _Importer:
    def __init__(self, ctx: ImportContext, source: Source, media: str) -> None:
        self.ctx = ctx
        self.source = source
        self.media = media
        self._users: dict[int, int] | None = None

    # --- helpers ---------------------------------------------------------------------------

    @property
    def users(self) -> dict[int, int]:
        """Chevereto user id → this site's user id, of the users imported so far."""
        if self._users is None:
            self._users = {
                int(key.split(":", 1)[1]): target
                for key, target in ImportItem.objects.filter(
                    job=self.ctx.job, key__startswith="user:", target_id__isnull=False
                ).values_list("key", "target_id")
            }
        return self._users

    def _pages(self, table: str, key: str) -> Any:
        after = int(self.ctx.state.get(f"{table}_after", 0))
        for rows in self.source.pages(table, key, after=after, size=PAGE):
            yield rows
            self.ctx.save_state(**{f"{table}_after": int(rows[-1][key])})
            self.ctx.tick()

    def _done_keys(self, keys: list[str]) -> set[str]:
        return set(
            ImportItem.objects.filter(job=self.ctx.job, key__in=keys).values_list("key", flat=True)
        )

    # --- phases ----------------------------------------------------------------------------

    def phase_users(self) -> None:
        for rows in self._pages("users", "user_id"):
            self._user_page(rows)

    def _user_page(self, rows: list[Row]) -> None:
        ctx = self.ctx
        done = self._done_keys([f"user:{r['user_id']}" for r in rows])
        todo = [r for r in rows if f"user:{r['user_id']}" not in done]
        if not todo:
            return
        ids = [int(r["user_id"]) for r in todo]
        passwords = self.source.passwords(ids)
        taken = set(User.objects.filter(pk__in=ids).values_list("pk", flat=True))
        lowered = [text(r["user_username"]).lower() for r in todo]
        same_name = {
            u.username.lower(): u
            for u in User.objects.annotate(lname=Lower("username")).filter(lname__in=lowered)
        }
        made: list[tuple[int, User]] = []
        merged: list[tuple[int, int]] = []
        spare = int(ctx.state.get("user_spare", 0))
        for row in todo:
            old_id = int(row["user_id"])
            key = f"user:{old_id}"
            username = text(row["user_username"])
            if not username or len(username) > 16 or "/" in username:
                ctx.issue(key, "invalid", f"Username '{username[:40]}' cannot be used here.")
                continue
            existing = same_name.get(username.lower())
            if existing is not None:
                if existing.email and existing.email.lower() == text(row["user_email"]).lower():
                    merged.append((old_id, existing.pk))  # the same person: keep theirs
                else:
                    ctx.issue(key, "conflict", f"Username '{username}' is taken here.")
                continue
            if old_id in taken:
                spare += 1
                new_id = spare
            else:
                new_id = old_id
            made.append((old_id, self._user(row, new_id, passwords.get(old_id))))
        with transaction.atomic():
            User.objects.bulk_create([u for _, u in made])
            for old_id, user in made:
                ctx.done(f"user:{old_id}", user.pk)
                self.users[old_id] = user.pk
            for old_id, pk in merged:
                ctx.done(f"user:{old_id}", pk, skipped=True)
                self.users[old_id] = pk
            ctx.save_state(user_spare=spare)

    def _user(self, row: Row, pk: int, password_hash: str | None) -> User:
        status = text(row.get("user_status")) or "valid"
        is_admin = flag(row.get("user_is_admin"))
        user = User(
            pk=pk,
            username=text(row["user_username"]),
            name=text(row.get("user_name"), 60),
            email=text(row.get("user_email"), 254),
            bio=text(row.get("user_bio"), 500),
            website=text(row.get("user_website"), 200),
            timezone=text(row.get("user_timezone"), 64),
            is_private=flag(row.get("user_is_private")),
            show_nsfw=flag(row.get("user_show_nsfw_listings")),
            is_superuser=is_admin,
            is_staff=is_admin or flag(row.get("user_is_manager")),
            # Banned and unconfirmed accounts cannot sign in, as on the old site.
            is_active=status == "valid",
            date_joined=utc(row.get("user_date_gmt")) or timezone.now(),
        )
        if password_hash and password_hash.startswith("$2"):
            user.password = f"chevereto_bcrypt${password_hash}"
        else:
            user.set_unusable_password()
        return user

    def phase_albums(self) -> None:
        for rows in self._pages("albums", "album_id"):
            self._album_page(rows)

    def _album_page(self, rows: list[Row]) -> None:
        ctx = self.ctx
        done = self._done_keys([f"album:{r['album_id']}" for r in rows])
        made: list[Album] = []
        dates: dict[int, datetime] = {}
        for row in rows:
            album_id = int(row["album_id"])
            key = f"album:{album_id}"
            if key in done:
                continue
            owner = self.users.get(int(row["album_user_id"] or 0))
            if owner is None:
                ctx.issue(key, "orphan", f"Its user {row['album_user_id']} does not exist.")
                continue
            privacy = PRIVACY.get(text(row.get("album_privacy")), Album.Privacy.PRIVATE)
            password_hash = ""
            if privacy == Album.Privacy.PASSWORD:
                password = text(row.get("album_password"))
                if not password:
                    privacy = Album.Privacy.PRIVATE  # a password album nobody could open
                else:
                    try:
                        password_hash = album_hash_password(password)
                    except AlbumError:
                        from django.contrib.auth.hashers import make_password

                        password_hash = make_password(password)
            made.append(
                Album(
                    pk=album_id,
                    owner_id=owner,
                    name=text(row.get("album_name"), 100) or "Untitled",
                    description=text(row.get("album_description"), 2000),
                    privacy=privacy,
                    password_hash=password_hash,
                    views=number(row.get("album_views")),
                )
            )
            dates[album_id] = utc(row.get("album_date_gmt")) or timezone.now()
        with transaction.atomic():
            Album.objects.bulk_create(made)
            _set_dates(Album, "created_at", dates)
            _set_dates(Album, "updated_at", dates)
            for album in made:
                ctx.done(f"album:{album.pk}", album.pk)

    def phase_images(self) -> None:
        ImageImporter(self.ctx, self.source, self.users, self.media).run()

    def phase_links(self) -> None:
        """Parents and covers, once every album and upload is in (either may come later)."""
        if not (
            self.source.has("albums", "album_parent_id")
            or self.source.has("albums", "album_cover_id")
        ):
            return
        after = int(self.ctx.state.get("links_after", 0))
        for rows in self.source.pages("albums", "album_id", after=after, size=PAGE):
            by_id = {a.pk: a for a in Album.objects.filter(pk__in=[r["album_id"] for r in rows])}
            parents = {int(r["album_parent_id"]) for r in rows if r.get("album_parent_id")}
            covers = {int(r["album_cover_id"]) for r in rows if r.get("album_cover_id")}
            owners = dict(Album.objects.filter(pk__in=parents).values_list("pk", "owner_id"))
            images = dict(Image.objects.filter(pk__in=covers).values_list("pk", "album_id"))
            changed: list[Album] = []
            with transaction.atomic():
                for row in rows:
                    album = by_id.get(int(row["album_id"]))
                    if album is None:
                        continue
                    parent = row.get("album_parent_id")
                    if (
                        parent
                        and owners.get(int(parent)) == album.owner_id
                        and int(parent) != album.pk
                    ):
                        album.parent_id = int(parent)
                    elif parent:
                        note(
                            self.ctx,
                            f"album:{album.pk}",
                            "orphan",
                            f"Its parent album {parent} is missing: kept at the top level.",
                        )
                    cover = row.get("album_cover_id")
                    if cover and int(cover) in images:
                        album.cover_id = int(cover)
                    changed.append(album)
                Album.objects.bulk_update(changed, ["parent", "cover"])
            self.ctx.save_state(links_after=int(rows[-1]["album_id"]))
            self.ctx.tick()

    def phase_likes(self) -> None:
        for rows in self._pages("likes", "like_id"):
            self._like_page(rows)

    def _like_page(self, rows: list[Row]) -> None:
        ctx = self.ctx
        done = self._done_keys([f"like:{r['like_id']}" for r in rows])
        image_ids = {int(r["like_content_id"]) for r in rows if r["like_content_type"] == "image"}
        album_ids = {int(r["like_content_id"]) for r in rows if r["like_content_type"] == "album"}
        targets = {
            "image": set(Image.objects.filter(pk__in=image_ids).values_list("pk", flat=True)),
            "album": set(Album.objects.filter(pk__in=album_ids).values_list("pk", flat=True)),
        }
        wanted: dict[str, tuple[str, int, int, datetime]] = {}
        for row in rows:
            key = f"like:{row['like_id']}"
            if key in done:
                continue
            user = self.users.get(int(row["like_user_id"] or 0))
            target = int(row["like_content_id"] or 0)
            kind = text(row["like_content_type"])
            if user is None or target not in targets.get(kind, ()):
                ctx.issue(key, "orphan", f"Like of a missing user, {kind} or type ({target}).")
                continue
            when = utc(row.get("like_date_gmt")) or timezone.now()
            wanted[key] = (kind, user, target, when)
        # Pairs already liked: the same like twice in the old site, or a page whose rows were
        # written just before the process died.
        users = {user for _, user, _, _ in wanted.values()}
        liked = {
            ("image" if image else "album", user, image or album)
            for user, image, album in Like.objects.filter(user_id__in=users).values_list(
                "user_id", "image_id", "album_id"
            )
        }
        self._bulk_with_dates(
            wanted,
            liked,
            lambda kind, user, target: Like(user_id=user, **{f"{kind}_id": target}),
            Like,
        )

    def _bulk_with_dates(
        self,
        wanted: dict[str, tuple[Any, ...]],
        existing: set[tuple[Any, ...]],
        make: Any,
        model: type[models.Model],
    ) -> None:
        """Insert one row per wanted item (but once per natural key), its date kept."""
        ctx = self.ctx
        rows: list[tuple[str, models.Model, datetime]] = []
        skipped: list[str] = []
        for key, (*natural, when) in wanted.items():
            if tuple(natural) in existing:
                skipped.append(key)
                continue
            existing.add(tuple(natural))
            rows.append((key, make(*natural), when))
        with transaction.atomic():
            model.objects.bulk_create([obj for _, obj, _ in rows])
            _set_dates(model, "created_at", {obj.pk: when for _, obj, when in rows})
            for key, obj, _ in rows:
                ctx.done_later(key, obj.pk)
            for key in skipped:
                ctx.done_later(key, None, skipped=True)

    def phase_follows(self) -> None:
        for rows in self._pages("follows", "follow_id"):
            self._follow_page(rows)

    def _follow_page(self, rows: list[Row]) -> None:
        ctx = self.ctx
        done = self._done_keys([f"follow:{r['follow_id']}" for r in rows])
        wanted: dict[str, tuple[int, int, datetime]] = {}
        for row in rows:
            key = f"follow:{row['follow_id']}"
            if key in done:
                continue
            follower = self.users.get(int(row["follow_user_id"] or 0))
            followed = self.users.get(int(row["follow_followed_user_id"] or 0))
            if follower is None or followed is None or follower == followed:
                ctx.issue(key, "orphan", "Follow of a missing user (or of oneself).")
                continue
            wanted[key] = (follower, followed, utc(row.get("follow_date_gmt")) or timezone.now())
        followers = {follower for follower, _, _ in wanted.values()}
        following = set(
            Follow.objects.filter(follower_id__in=followers).values_list(
                "follower_id", "followed_id"
            )
        )
        self._bulk_with_dates(
            wanted,
            following,
            lambda follower, followed: Follow(follower_id=follower, followed_id=followed),
            Follow,
        )

    def phase_bans(self) -> None:
        """The old site's IP bans (a trailing `*` wildcard becomes its network)."""
        for rows in self._pages("ip_bans", "ip_ban_id"):
            for row in rows:
                self._ban(row)

    def _ban(self, row: Row) -> None:
        ctx = self.ctx
        key = f"ipban:{row['ip_ban_id']}"
        if ctx.seen(key):
            return
        expires = utc(row.get("ip_ban_expires_gmt"))
        if expires is not None and expires <= timezone.now():
            ctx.done(key, None, skipped=True)  # expired on the old site already
            return
        ip = _wildcard_network(text(row.get("ip_ban_ip")).strip())
        if ip is None:
            ctx.issue(key, "unsupported", f"IP ban '{text(row.get('ip_ban_ip'))[:60]}' is not "
                      "an address, a network or a trailing wildcard.")  # fmt: skip
            return
        try:
            ban = ip_ban_create(
                ip=ip, message=text(row.get("ip_ban_message"), 500), expires_at=expires
            )
        except ValidationError:
            # Banned already (here, or by a run that died before recording it).
            ctx.done(key, None, skipped=True)
            return
        ctx.done(key, ban.pk)

    def phase_profiles(self) -> None:
        profiles_import(self.ctx, self.source, self.users, self.media)

    def phase_finish(self) -> None:
        """Counters from the imported rows, and sequences past the imported ids."""
        user_ids = sorted(set(self.users.values()))
        for start in range(0, len(user_ids), 500):
            _recount_users(user_ids[start : start + 500])
        _recount(Album, "image_count", Image.objects.filter(album_id=OuterRef("pk")))
        _recount(Album, "likes", Like.objects.filter(album_id=OuterRef("pk")))
        liked = Like.objects.filter(image_id__isnull=False).values_list("image_id", flat=True)
        Image.objects.filter(pk__in=liked).update(
            likes=_count(Like.objects.filter(image_id=OuterRef("pk")))
        )
        sequences_reset()


def _count(rows: models.QuerySet[Any]) -> Coalesce:
    """COUNT(*) of `rows` (filtered on an OuterRef) as a correlated subquery."""
    counted = rows.order_by().annotate(
        n=models.Func(models.F("pk"), function="COUNT", output_field=models.BigIntegerField())
    )
    return Coalesce(Subquery(counted.values("n")[:1]), 0)


def _recount(model: type[models.Model], field: str, rows: models.QuerySet[Any]) -> None:
    model.objects.update(**{field: _count(rows)})


def _recount_users(ids: list[int]) -> None:
    User.objects.filter(pk__in=ids).update(
        image_count=_count(Image.objects.filter(user_id=OuterRef("pk"))),
        album_count=_count(Album.objects.filter(owner_id=OuterRef("pk"))),
        followers_count=_count(Follow.objects.filter(followed_id=OuterRef("pk"))),
        following_count=_count(Follow.objects.filter(follower_id=OuterRef("pk"))),
    )


def sequences_reset() -> None:
    """New rows get ids above the imported ones. PostgreSQL sequences do not move when ids
    are given explicitly (SQLite's and MySQL's counters do, and need nothing)."""
    statements = connection.ops.sequence_reset_sql(
        no_style(), [User, Album, Image, Category, Tag, Like, Follow]
    )
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


__all__ = ["ImportRefused", "SourceError", "run", "sequences_reset"]
