"""The world the authorization matrix (tests/test_authorization_matrix.py) asks about.

One `World` holds the four roles (a guest, the owner, another user, staff) with a logged-in
web client and an API key each, and the owner's things in one content state: an album
`Vault` inside a public album `Trips`, holding an image and a video (with every derivative
in storage), tagged, categorised and liked by their owner. The states are those of
tests/uploads/test_visibility.py (the upload visibility table, whose expectations the matrix
reads); `arrange` puts the world into one of them the way the site would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.services import api_key_create
from albums.models import Album
from albums.selectors import album_path
from albums.services import album_set_password
from chevereto.core.encoding import encode_id
from social.models import Like
from tests import samples
from tests.factories import make_album
from tests.uploads.test_visibility import ALBUM_PASSWORD, STATES, VIEWERS
from uploads.files import variant_file
from uploads.models import Category, Image, Tag
from uploads.selectors import image_short_path, image_viewer_path

__all__ = ["ALBUM_PASSWORD", "ROLES", "STATES", "World", "arrange", "insider"]

# The matrix's roles are the visibility table's viewers, named the same way.
ROLES = VIEWERS
# A word found nowhere else on the site: search pages are asked for it.
MARKER = "zephyrqx"
ALBUM_PRIVACY = {
    "in private album": Album.Privacy.PRIVATE,
    "in link-only album": Album.Privacy.PRIVATE_BUT_LINK,
    "in password album, locked": Album.Privacy.PASSWORD,
    "in password album, unlocked": Album.Privacy.PASSWORD,
}


def insider(role: str, state: str) -> bool:
    """The owner and staff see everything of the owner's; a banned owner is logged out."""
    return role == "staff" or (role == "owner" and state != "banned owner")


@dataclass
class World:
    state: str
    owner: User
    other: User
    staff: User
    parent: Album
    album: Album
    image: Image
    video: Image
    category: Category
    tag: Tag
    delete_token: str
    video_delete_token: str
    clients: dict[str, Client] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    # --- URLs of the owner's things ------------------------------------------------------

    @property
    def image_id(self) -> str:
        return encode_id(self.image.pk)

    @property
    def video_id(self) -> str:
        return encode_id(self.video.pk)

    @property
    def album_id(self) -> str:
        return encode_id(self.album.pk)

    def viewer_path(self, *, video: bool = False) -> str:
        return image_viewer_path(self.video if video else self.image)

    def short_path(self, *, video: bool = False) -> str:
        return image_short_path(self.video if video else self.image)

    def file_path(self, variant: str, *, video: bool = False) -> str:
        stored = variant_file(self.video if video else self.image, variant)  # type: ignore[arg-type]
        assert stored is not None, variant
        return "/" + stored.name

    def delete_path(self, *, video: bool = False) -> str:
        if video:
            return f"/video/{self.video_id}/delete/{self.video_delete_token}"
        return f"/image/{self.image_id}/delete/{self.delete_token}"

    def album_page(self) -> str:
        return album_path(self.album)

    def parent_page(self) -> str:
        return album_path(self.parent)

    def client(self, role: str) -> Client:
        return self.clients[role]

    def api_headers(self, role: str) -> dict[str, Any]:
        key = self.keys.get(role)
        return {"HTTP_X_API_KEY": key} if key else {}

    # --- What a page shows ---------------------------------------------------------------

    def shows_image(self, html: str) -> bool:
        return encode_id(self.image.pk) in html and self.image.path.rsplit(".", 1)[0] in html

    def shows_album(self, html: str) -> bool:
        return album_path(self.album) in html


def _user(username: str, **extra: Any) -> User:
    # No password: hashing one costs most of a case's setup; clients log in with force_login.
    return User.objects.create_user(
        username=username, email=f"{username}@example.com", password=None, **extra
    )


def _as_video(image: Image) -> Image:
    """Turn a made upload into a video with its still frame (`.fr`) in storage."""
    image.kind = Image.Kind.VIDEO
    image.mime = "video/mp4"
    image.duration = 4.0
    image.chain = Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_FRAME
    image.save()
    frame = variant_file(image, "frame")
    assert frame is not None
    default_storage.save(frame.name, ContentFile(samples.jpeg_bytes(40, 30)))
    thumb = variant_file(image, "thumb")
    assert thumb is not None
    if not default_storage.exists(thumb.name):
        default_storage.save(thumb.name, ContentFile(samples.jpeg_bytes(20, 20)))
    return image


def _upload(owner: User, album: Album, title: str, category: Category, tag: Tag) -> tuple:
    from tests.uploads.test_visibility import make_upload
    from uploads.counters import image_counts_changed

    upload = make_upload(owner=owner, album=album, title=title)
    image = upload.image
    image.category = category
    image.save()
    image.tags.add(tag)
    image_counts_changed(added=[(owner.pk, album.pk)])
    return image, upload.delete_token


def arrange(state: str) -> World:
    """The owner's things in `state`, and a client and key for each role."""
    assert state in STATES, state
    owner = _user("alice")
    other = _user("bob")
    staff = _user("root", is_staff=True, is_superuser=True)
    category = Category.objects.create(name="Landscapes", slug="landscapes")
    tag = Tag.objects.create(name="harbour", slug="harbour")
    parent = make_album(owner=owner, name=f"Trips {MARKER}")
    privacy = ALBUM_PRIVACY.get(state, Album.Privacy.PUBLIC)
    album = make_album(owner=owner, name=f"Vault {MARKER}", privacy=privacy, parent=parent)
    if privacy == Album.Privacy.PASSWORD:
        album_set_password(album=album, password=ALBUM_PASSWORD)
    image, token = _upload(owner, album, f"Harbour {MARKER}", category, tag)
    video, video_token = _upload(owner, album, f"Clip {MARKER}", category, tag)
    video = _as_video(video)
    Like.objects.create(user=owner, image=image)
    # The image is the album's cover: album cards must not show a cover the viewer may not see.
    Album.objects.filter(pk=album.pk).update(cover=image)
    keys = {
        "owner": api_key_create(user=owner).key,
        "another user": api_key_create(user=other).key,
        "staff": api_key_create(user=staff).key,
    }
    if state == "awaiting moderation":
        Image.objects.filter(pk__in=[image.pk, video.pk]).update(is_approved=False)
    elif state == "expired":
        past = timezone.now() - timedelta(seconds=1)
        Image.objects.filter(pk__in=[image.pk, video.pk]).update(expires_at=past)
    elif state == "banned owner":
        User.objects.filter(pk=owner.pk).update(is_active=False)
    world = World(
        state=state,
        owner=owner,
        other=other,
        staff=staff,
        parent=parent,
        album=Album.objects.select_related("owner").get(pk=album.pk),
        image=Image.objects.select_related("user", "album__owner").get(pk=image.pk),
        video=Image.objects.select_related("user", "album__owner").get(pk=video.pk),
        category=category,
        tag=tag,
        delete_token=token,
        video_delete_token=video_token,
        keys=keys,
    )
    for role, account in (("guest", None), ("owner", owner), ("another user", other)):
        world.clients[role] = _client(account)
    world.clients["staff"] = _client(staff)
    if state == "in password album, unlocked":
        for client in world.clients.values():
            # The real form: the right password opens the album for this session.
            unlocked = client.post(world.album_page(), {"content-password": ALBUM_PASSWORD})
            assert unlocked.status_code in {200, 303}, unlocked.status_code
    return world


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        # Logged in even when banned: the site must then treat the session as a guest's.
        client.force_login(user)
    return client


def admin_object(model: type, world: World) -> Any:
    """A row of a dashboard model the world did not make, so each admin has one to open."""
    from django.contrib.auth.models import Group

    from chevereto.core.models import AuditEntry, IpBan, SiteSettings
    from imports.models import ImportJob
    from moderation.models import PurgeJob, Report
    from social.models import Follow, Notification
    from uploads.models import Storage

    makers = {
        Group: lambda: Group.objects.create(name="Editors"),
        SiteSettings: SiteSettings.load,
        IpBan: lambda: IpBan.objects.create(ip="192.0.2.1"),
        AuditEntry: lambda: AuditEntry.objects.create(action="matrix.visit", actor=world.staff),
        Storage: lambda: Storage.objects.create(name="Spare disk", kind=Storage.Kind.LOCAL),
        Follow: lambda: Follow.objects.create(follower=world.other, followed=world.owner),
        Notification: lambda: Notification.objects.create(
            recipient=world.owner, actor=world.other, kind=Notification.Kind.FOLLOW
        ),
        Report: lambda: Report.objects.create(
            image=world.image, reporter=world.other, reason=Report.Reason.SPAM
        ),
        PurgeJob: lambda: PurgeJob.objects.create(user=world.other, username="bob"),
        ImportJob: lambda: ImportJob.objects.create(kind=ImportJob.Kind.values[0]),
    }
    assert model in makers, f"tell authz_fixtures.admin_object how to make a {model.__name__}"
    return makers[model]()
