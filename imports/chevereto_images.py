"""import_chevereto, the uploads: rows of `images` with the same ids, files copied under the
same storage names, tags and categories attached.

A page of rows is read, its files copied (slow I/O, outside any transaction), then its rows
and import items written in one transaction: an interrupted page is copied and written
again on resume (a copy left behind is replaced), never half-recorded.
"""

from __future__ import annotations

import ipaddress
import json
import os
from typing import Any

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from chevereto.core.models import SiteSettings
from imports.chevereto_files import (
    EXTENSIONS,
    copy_into,
    derivatives_to_copy,
    picture_size,
    safe_name,
    storage_folder,
)
from imports.chevereto_source import Row, Source, flag, number, text, utc
from imports.models import ImportIssue
from imports.runner import ImportContext
from uploads.files import BITS
from uploads.models import Category, Image, Tag
from uploads.storage import storage_for_new_files, storage_id_of

PAGE = 200


def note(ctx: ImportContext, key: str, kind: str, message: str) -> None:
    """An issue about an item that was imported anyway (out of a missing album, say): shown
    with the others, but not counted as a failure."""
    ImportIssue.objects.create(job=ctx.job, key=key[:512], kind=kind[:16], message=message[:500])


def category_map(source: Source) -> dict[int, int]:
    """Chevereto category id → this site's category (matched by URL key, else created)."""
    rows = source.categories()
    found: dict[int, int] = {}
    for row in rows:
        slug = slugify(text(row["category_url_key"]))[:50] or slugify(text(row["category_name"]))
        name = text(row["category_name"], 50) or slug
        if not slug:
            continue
        category = Category.objects.filter(slug=slug).first()
        if category is None:
            name = name if not Category.objects.filter(name=name).exists() else slug
            category = Category.objects.create(
                name=name, slug=slug, description=text(row["category_description"], 255)
            )
        found[int(row["category_id"])] = category.pk
    return found


def _tag_ids(names: set[str]) -> dict[str, int]:
    """This site's tag (case-insensitive, as uploads match them) for each name, created
    when missing."""
    wanted = {n.strip()[:50] for n in names if n.strip()}
    found: dict[str, int] = {}
    lowered = {n.lower() for n in wanted}
    for pk, name in (
        Tag.objects.annotate(lname=Lower("name"))
        .filter(lname__in=lowered)
        .values_list("pk", "name")
    ):
        found[name.lower()] = pk
    for name in sorted(wanted):
        if name.lower() in found:
            continue
        slug = slugify(name, allow_unicode=True)[:60] or "tag"
        tag = Tag.objects.filter(slug=slug).first() or Tag.objects.create(name=name, slug=slug)
        found[name.lower()] = tag.pk
    return found


def _ip(value: Any) -> str | None:
    try:
        return str(ipaddress.ip_address(text(value).strip()))
    except ValueError:
        return None


def _exif(value: Any) -> dict[str, Any] | None:
    try:
        data = json.loads(text(value)) if value else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class ImageImporter:
    def __init__(
        self, ctx: ImportContext, source: Source, users: dict[int, int], media: str
    ) -> None:
        self.ctx = ctx
        self.source = source
        self.users = users
        self.media = media
        self.site = SiteSettings.load()
        self.categories = category_map(source)
        self.storage = storage_for_new_files()
        self.storage_id = storage_id_of(self.storage)

    def run(self) -> None:
        ctx = self.ctx
        for rows in self.source.pages(
            "images", "image_id", after=ctx.state.get("images_after", 0), size=PAGE
        ):
            self.page(rows)
            ctx.save_state(images_after=int(rows[-1]["image_id"]))
            ctx.tick()

    def page(self, rows: list[Row]) -> None:
        from albums.models import Album
        from imports.models import ImportItem

        ctx = self.ctx
        ids = [int(r["image_id"]) for r in rows]
        keys = {f"image:{i}" for i in ids}
        done = set(
            ImportItem.objects.filter(job=ctx.job, key__in=keys).values_list("key", flat=True)
        )
        existing = set(Image.objects.filter(pk__in=ids).values_list("pk", flat=True))
        albums = set(
            Album.objects.filter(
                pk__in={int(r["image_album_id"]) for r in rows if r.get("image_album_id")}
            ).values_list("pk", flat=True)
        )
        tags = self.source.tags_of(ids)
        made: list[Image] = []
        notes: list[tuple[str, str, str]] = []
        skipped: list[int] = []
        for row in rows:
            image_id = int(row["image_id"])
            key = f"image:{image_id}"
            if key in done:
                continue
            if image_id in existing:
                skipped.append(image_id)
                continue
            ctx.attempt(key)
            try:
                image = self.build(row, key, albums, notes)
            except OSError as exc:
                ctx.issue(key, "error", f"Could not copy the files: {exc}")
                continue
            if image is not None:
                made.append(image)
        with transaction.atomic():
            Image.objects.bulk_create(made, batch_size=PAGE)
            self.attach_tags(made, tags)
            # Items are written with the tick that follows the page, in one INSERT: should
            # the process die between the two, the rows are there and the resumed run finds
            # them by id (counted as skipped then), so nothing is imported twice.
            for image in made:
                ctx.done_later(f"image:{image.pk}", image.pk)
            for image_id in skipped:
                ctx.done_later(f"image:{image_id}", image_id, skipped=True)
            for key, kind, message in notes:
                note(ctx, key, kind, message)

    def build(
        self, row: Row, key: str, albums: set[int], notes: list[tuple[str, str, str]]
    ) -> Image | None:
        """The Image of a row with its files copied; None (and an issue) when it cannot be."""
        ctx = self.ctx
        image_id = int(row["image_id"])
        ext = text(row.get("image_extension")).lower()
        kind_mime = EXTENSIONS.get(ext)
        image_type = number(row.get("image_type"), 1)
        if kind_mime is None or image_type not in (1, 2):
            ctx.issue(key, "unsupported", f"Unsupported file type '{ext}' (type {image_type}).")
            return None
        kind, mime = kind_mime
        if image_type == 2:
            kind = "video"
        user_id = row.get("image_user_id")
        owner = None
        if user_id is not None:
            owner = self.users.get(int(user_id))
            if owner is None:
                ctx.issue(
                    key, "orphan", f"Its user {user_id} does not exist (or was not imported)."
                )
                return None
        album_id = row.get("image_album_id")
        if album_id and int(album_id) not in albums:
            notes.append(
                (key, "orphan", f"Its album {album_id} does not exist: imported outside any album.")
            )
            album_id = None
        if row.get("image_storage_id"):
            ctx.issue(
                key,
                "missing",
                "Stored on an external storage of the old site: not in the media folder.",
            )
            return None
        try:
            name = (
                storage_folder(row)
                + f"{text(row.get('image_name'))}.{text(row.get('image_extension'))}"
            )
        except ValueError as exc:
            ctx.issue(key, "error", str(exc))
            return None
        source_path = os.path.join(self.media, name)
        if not safe_name(name) or not os.path.isfile(source_path):
            ctx.issue(key, "missing", f"File not found: {name}")
            return None
        width, height = number(row.get("image_width")), number(row.get("image_height"))
        is_animated = flag(row.get("image_is_animated"))
        image = Image(
            pk=image_id,
            user_id=owner,
            album_id=int(album_id) if album_id else None,
            category_id=self.categories.get(int(row["image_category_id"]))
            if row.get("image_category_id")
            else None,
            kind=kind,
            path=name,
            storage_mode=text(row.get("image_storage_mode"), 20) or "datefolder",
            storage_id=self.storage_id,
            original_filename=text(row.get("image_original_filename"), 255),
            mime=mime,
            size=number(row.get("image_size")),
            width=width,
            height=height,
            md5=text(row.get("image_md5"), 32),
            source_md5=text(row.get("image_source_md5"), 32),
            exif=_exif(row.get("image_original_exifdata")),
            is_animated=is_animated,
            is_360=flag(row.get("image_is_360")),
            duration=float(row["image_duration"]) if row.get("image_duration") else None,
            title=text(row.get("image_title"), 100),
            description=text(row.get("image_description"), 25000),
            nsfw=flag(row.get("image_nsfw")),
            is_approved=flag(row["image_is_approved"]) if "image_is_approved" in row else True,
            created_at=utc(row.get("image_date_gmt")) or timezone.now(),
            expires_at=utc(row.get("image_expiration_date_gmt")),
            uploader_ip=_ip(row.get("image_uploader_ip")),
            views=number(row.get("image_views")),
            chain=0,
            # Set provisionally so the medium's name can be found; corrected below.
            medium_width=1 if kind == "image" else 0,
        )
        copied = copy_into(self.storage, source_path, name, mime=image.mime, want_md5=not image.md5)
        image.size = copied.size
        image.md5 = image.md5 or copied.md5
        image.chain = Image.CHAIN_IMAGE
        for variant, (target, path, mime) in derivatives_to_copy(image, self.media).items():
            derived = copy_into(self.storage, path, target, mime=mime)
            image.chain |= BITS[variant]
            w, h = picture_size(path)
            if variant == "thumb":
                image.thumb_size, image.thumb_width, image.thumb_height = derived.size, w, h
            elif variant == "medium":
                image.medium_size, image.medium_width, image.medium_height = derived.size, w, h
            else:
                image.frame_size = derived.size
        self.expected_sizes(image)
        return image

    def expected_sizes(self, image: Image) -> None:
        """Dimensions of the derivatives not copied, as the upload pipeline would make them
        (they are made on demand when first asked for)."""
        site = self.site
        if not image.has(Image.CHAIN_THUMB):
            image.thumb_width, image.thumb_height = site.thumb_width, site.thumb_height
        if image.kind == "image" and not image.has(Image.CHAIN_MEDIUM):
            if image.width > site.medium_width or image.is_animated:
                medium_w = min(site.medium_width, image.width) or site.medium_width
                image.medium_width = medium_w
                image.medium_height = max(1, round(image.height * medium_w / max(image.width, 1)))
            else:
                image.medium_width = image.medium_height = 0

    def attach_tags(self, made: list[Image], tags: dict[int, list[str]]) -> None:
        wanted = {n for image in made for n in tags.get(image.pk, [])}
        if not wanted:
            return
        ids = _tag_ids(wanted)
        through = Image.tags.through
        links = {
            (image.pk, ids[n.strip()[:50].lower()])
            for image in made
            for n in tags.get(image.pk, [])
            if n.strip()
        }
        through.objects.bulk_create(
            [through(image_id=i, tag_id=t) for i, t in sorted(links)], ignore_conflicts=True
        )
