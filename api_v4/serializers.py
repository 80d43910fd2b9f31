"""The bodies API V4 answers with, described for the schema.

The bodies themselves are built by `uploads.representation` (shared with API V1); these
serializers document them, field by field, so a client generator gets exact types.
"""

from __future__ import annotations

from rest_framework import serializers

from api_v4.pagination import PagingSerializer

S = serializers


def _nullable(field: type[S.Field], **kwargs: object) -> S.Field:
    return field(allow_null=True, **kwargs)


class FileBlockSerializer(S.Serializer):
    filename = _nullable(S.CharField)
    name = _nullable(S.CharField)
    mime = _nullable(S.CharField)
    extension = _nullable(S.CharField)
    url = _nullable(S.URLField)
    size = S.IntegerField(required=False)
    width = S.IntegerField(required=False)
    height = S.IntegerField(required=False)


class FileResourceSerializer(S.Serializer):
    class _Resource(S.Serializer):
        type = S.CharField()

    resource = _Resource()


class ImageSerializer(S.Serializer):
    """Chevereto's image object (the same as API V1.1's `image`)."""

    id_encoded = S.CharField()
    name = S.CharField()
    extension = S.CharField()
    size = S.IntegerField()
    width = S.IntegerField()
    height = S.IntegerField()
    date = S.CharField(help_text="Site time, YYYY-MM-DD HH:MM:SS")
    date_gmt = S.CharField()
    title = S.CharField(allow_blank=True)
    tags = S.ListField(child=S.CharField())
    description = _nullable(S.CharField)
    nsfw = S.IntegerField()
    storage_mode = S.CharField()
    storage = S.CharField()
    storage_id = _nullable(S.IntegerField)
    md5 = S.CharField()
    source_md5 = _nullable(S.CharField)
    original_filename = S.CharField(allow_blank=True)
    original_exifdata = _nullable(S.CharField)
    views = S.IntegerField()
    category_id = _nullable(S.IntegerField)
    chain = S.IntegerField()
    thumb_size = S.IntegerField()
    medium_size = S.IntegerField()
    frame_size = S.IntegerField()
    expiration_date_gmt = _nullable(S.CharField)
    likes = S.IntegerField()
    is_animated = S.IntegerField()
    is_approved = S.IntegerField()
    is_360 = S.IntegerField()
    duration = _nullable(S.IntegerField)
    type = S.ChoiceField(choices=["image", "video"])
    tags_string = S.CharField(allow_blank=True)
    file = FileResourceSerializer()
    filename = S.CharField()
    mime = S.CharField()
    url = S.URLField()
    ratio = S.FloatField()
    size_formatted = S.CharField()
    bits = S.IntegerField()
    channels = _nullable(S.IntegerField)
    frame = FileBlockSerializer()
    image = FileBlockSerializer()
    thumb = FileBlockSerializer()
    url_frame = _nullable(S.URLField)
    medium = FileBlockSerializer()
    duration_time = _nullable(S.CharField)
    url_viewer = S.URLField()
    path_viewer = S.CharField()
    url_short = S.URLField()
    display_url = S.URLField()
    display_width = S.IntegerField()
    display_height = S.IntegerField()
    views_label = S.CharField()
    likes_label = S.CharField()
    how_long_ago = S.CharField()
    date_fixed_peer = S.CharField()
    title_truncated = S.CharField(allow_blank=True)
    title_truncated_html = S.CharField(allow_blank=True)
    is_use_loader = S.BooleanField()
    display_title = S.CharField(allow_blank=True)
    delete_url = _nullable(S.URLField)


class AlbumSerializer(S.Serializer):
    id_encoded = S.CharField()
    name = S.CharField()
    description = _nullable(S.CharField)
    privacy = S.ChoiceField(choices=["public", "private", "private_but_link", "password"])
    password = S.BooleanField(help_text="Whether the album has a password (never the password)")
    parent_id = _nullable(S.CharField)
    cover_id = _nullable(S.CharField)
    cover_url = _nullable(S.URLField)
    image_count = S.IntegerField()
    likes = S.IntegerField()
    views = S.IntegerField()
    username = S.CharField()
    url = S.URLField()
    url_short = S.URLField()
    date = S.CharField()
    date_gmt = S.CharField()


class UserSerializer(S.Serializer):
    """A public profile."""

    username = S.CharField()
    name = S.CharField()
    bio = _nullable(S.CharField)
    website = _nullable(S.URLField)
    url = S.URLField()
    url_albums = S.URLField()
    avatar = _nullable(S.URLField)
    background = _nullable(S.URLField)
    is_private = S.IntegerField()
    image_count = S.IntegerField()
    album_count = S.IntegerField()
    followers = S.IntegerField()
    following = S.IntegerField()
    date = S.CharField()
    date_gmt = S.CharField()


class ImageBodySerializer(S.Serializer):
    image = ImageSerializer()


class AlbumBodySerializer(S.Serializer):
    album = AlbumSerializer()


class UserBodySerializer(S.Serializer):
    user = UserSerializer()


class ImageListSerializer(PagingSerializer):
    images = ImageSerializer(many=True)


class AlbumListSerializer(PagingSerializer):
    albums = AlbumSerializer(many=True)


class UserListSerializer(PagingSerializer):
    users = UserSerializer(many=True)
