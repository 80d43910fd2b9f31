"""API V4: the caller's albums (DESIGN.md §7), under `/api/4/user/albums/`.

Every route acts on the caller's own albums; staff may act on anyone's. Someone else's album
id answers exactly like an id that does not exist (404). Creating answers 201 with
`{"album": {...}}`; deleting answers 200 with `{"deleted": "<id>"}`; bulk routes answer
`{"edited": [...], "failed": [{"id", "error"}]}`.

Views only parse, look up and answer: the rules live in `albums.services` and
`uploads.album_services`, whose `AlbumError` becomes a 400 here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.validators import RegexValidator
from django.db import transaction
from django.db.models import QuerySet
from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from albums.models import Album
from albums.selectors import album_children_visible_to, albums_of_owner
from albums.services import AlbumError, album_create, album_move
from api_v4.base import (
    ENCODED_ID_FILTER_SCHEMA,
    ID_LIST_TEXT_SCHEMA,
    NOT_BLANK_PATTERN,
    PAGING,
    BulkResult,
    BulkResultSerializer,
    IdListField,
    IsSiteUser,
    WholeBodyMixin,
    bulk_ids_from,
    decode_or_404,
    encoded_id_filter,
    id_path_parameter,
    not_found,
    refuse_unknown_fields,
    strict_query,
    viewer_of,
)
from api_v4.pagination import PagingSerializer, Sort, keyset_page, paging_parameters
from api_v4.schema import closed_body, error_responses
from api_v4.serializers import (
    AlbumBodySerializer,
    AlbumListSerializer,
    AlbumSerializer,
    ImageSerializer,
)
from chevereto.core.encoding import InvalidEncodedId, decode_id
from uploads.album_services import album_delete, album_edit
from uploads.models import Image
from uploads.representation import (
    album_representation,
    images_representation,
)
from uploads.selectors import album_images_visible_to

ALBUM_SORTS = {
    "date_desc": Sort.of("-created_at", "-id"),
    "date_asc": Sort.of("created_at", "id"),
    # Names repeat: the id breaks ties so the order (and the cursor) is total.
    "name_asc": Sort.of("name", "id"),
    "image_count_desc": Sort.of("-image_count", "-id"),
}
IMAGE_SORTS = {
    "date_desc": Sort.of("-created_at", "-id"),
    "date_asc": Sort.of("created_at", "id"),
}
LIST_FILTERS = frozenset({"parent_id", "privacy", "q"})
PRIVACIES = [choice.value for choice in Album.Privacy]


# --- Request bodies ---------------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """Text only: DRF's CharField would take `5` as "5", hiding a client's type error."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _id_field(**kwargs: Any) -> StrictCharField:
    return StrictCharField(required=False, allow_null=True, allow_blank=True, **kwargs)


@closed_body
class AlbumCreateSerializer(serializers.Serializer):
    name = StrictCharField(
        max_length=100, validators=[RegexValidator(NOT_BLANK_PATTERN, "Must not be blank.")]
    )
    description = StrictCharField(required=False, allow_blank=True, max_length=2000)
    parent_id = _id_field(help_text="The parent album's id; omit, null or empty: top level")
    privacy = serializers.ChoiceField(choices=PRIVACIES, default=Album.Privacy.PUBLIC)
    password = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=128,
        write_only=True,
        help_text="Required when privacy is `password`, refused otherwise",
    )


@closed_body
class AlbumEditSerializer(serializers.Serializer):
    """Only the fields sent change."""

    name = StrictCharField(
        required=False,
        max_length=100,
        validators=[RegexValidator(NOT_BLANK_PATTERN, "Must not be blank.")],
    )
    description = StrictCharField(required=False, allow_blank=True, max_length=2000)
    privacy = serializers.ChoiceField(choices=PRIVACIES, required=False)
    password = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=128,
        write_only=True,
        help_text="A new password; required to turn an album into a password album",
    )
    parent_id = _id_field(help_text="Move under this album; null or empty: to the top level")
    cover_id = _id_field(help_text="An upload of this album; null or empty: no cover")


class WithImagesSerializer(serializers.Serializer):
    with_images = serializers.BooleanField(
        default=False, help_text="Also delete the uploads (default 0)"
    )


class BulkParentSerializer(WholeBodyMixin, serializers.Serializer):
    album_ids = IdListField()
    parent_id = _id_field(help_text="The new parent album; null or empty: the top level")


class DeletedSerializer(serializers.Serializer):
    deleted = serializers.CharField(help_text="The deleted album's id")


class AlbumContentsSerializer(PagingSerializer):
    album = AlbumSerializer()
    albums = AlbumSerializer(
        many=True, help_text="The sub-albums, all of them, on the first page only (else empty)"
    )
    images = ImageSerializer(many=True, help_text="The album's uploads, a page at a time")


# --- Lookups ----------------------------------------------------------------------------------


def _albums_for(request: Request) -> QuerySet[Album]:
    """The albums the caller may act on through user routes: theirs, or any for staff."""
    albums = Album.objects.select_related("owner", "cover")
    return albums if request.user.is_staff else albums.filter(owner_id=request.user.pk)


def _album_or_404(request: Request, encoded: str) -> Album:
    pk = decode_or_404(encoded, what="Album")
    album = _albums_for(request).filter(pk=pk).first()
    if album is None:
        raise not_found("Album")
    return album


def _parent_or_400(encoded: Any, *, owner_id: int) -> Album | None:
    """The album named by a `parent_id` field: one of `owner_id`'s albums, or None for the
    top level. Anything else (including another owner's album) is the same 400."""
    if encoded in (None, ""):
        return None
    try:
        pk = decode_id(encoded)
    except InvalidEncodedId:
        pk = None
    parent = Album.objects.filter(pk=pk, owner_id=owner_id).first() if pk else None
    if parent is None:
        raise exceptions.ValidationError({"parent_id": "Parent album not found."})
    return parent


def _cover_or_400(encoded: Any, *, album: Album) -> Image | None:
    if encoded in (None, ""):
        return None
    try:
        pk = decode_id(encoded)
    except InvalidEncodedId:
        pk = None
    cover = Image.objects.filter(pk=pk, album_id=album.pk).first() if pk else None
    if cover is None:
        raise exceptions.ValidationError(
            {"cover_id": "The cover must be one of the album's own uploads."}
        )
    return cover


def _validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _domain(error: AlbumError) -> exceptions.ValidationError:
    return exceptions.ValidationError(str(error))


def _with_images(request: Request) -> bool:
    """`with_images` from the query or the body (DELETE bodies are not always sent)."""
    data: dict[str, Any] = {}
    if "with_images" in request.query_params:
        data["with_images"] = request.query_params["with_images"]
    elif isinstance(request.data, Mapping) and "with_images" in request.data:
        data["with_images"] = request.data["with_images"]
    return bool(_validated(WithImagesSerializer, data)["with_images"])


def _album_body(album: Album, request: Request) -> dict[str, Any]:
    return {"album": album_representation(album, request)}


_ONE = [id_path_parameter("album")]
_WITH_IMAGES = OpenApiParameter(
    "with_images",
    bool,
    description="1: also delete the uploads of the album(s) and sub-albums (default 0). "
    "May also be sent in the body.",
)


# --- Views ------------------------------------------------------------------------------------


class AlbumCreateView(APIView):
    permission_classes = [IsSiteUser]

    @extend_schema(
        operation_id="user_albums_create",
        summary="Create an album",
        request=AlbumCreateSerializer,
        responses={201: AlbumBodySerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        strict_query(request, ())
        refuse_unknown_fields(request.data, AlbumCreateSerializer().fields)
        data = _validated(AlbumCreateSerializer, request.data)
        parent = _parent_or_400(data.get("parent_id"), owner_id=request.user.pk)
        try:
            album = album_create(
                owner=request.user,
                name=data["name"],
                description=data.get("description", ""),
                privacy=data["privacy"],
                password=data.get("password", ""),
                parent=parent,
            )
        except AlbumError as error:
            raise _domain(error) from None
        return Response(_album_body(album, request), status=201)


class AlbumListView(APIView):
    permission_classes = [IsSiteUser]

    @extend_schema(
        operation_id="user_albums_list",
        summary="List your albums",
        parameters=[
            *paging_parameters(ALBUM_SORTS, "date_desc"),
            OpenApiParameter(
                "parent_id",
                ENCODED_ID_FILTER_SCHEMA,
                description="Sub-albums of this album (encoded id); `root`: top level",
            ),
            OpenApiParameter("privacy", str, enum=PRIVACIES),
            OpenApiParameter("q", str, description="Name contains (case-insensitive)"),
        ],
        responses={200: AlbumListSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, PAGING | LIST_FILTERS)
        albums = albums_of_owner(owner_id=request.user.pk)
        query = request.query_params
        parent = query.get("parent_id")
        if parent == "root":
            albums = albums.filter(parent__isnull=True)
        elif parent is not None:
            parent_pk = encoded_id_filter(parent, name="parent_id")
            albums = albums.filter(parent_id=parent_pk) if parent_pk else albums.none()
        privacy = query.get("privacy")
        if privacy is not None:
            if privacy not in PRIVACIES:
                raise exceptions.ValidationError({"privacy": f"One of {', '.join(PRIVACIES)}."})
            albums = albums.filter(privacy=privacy)
        if query.get("q"):
            albums = albums.filter(name__icontains=query["q"][:100])
        page = keyset_page(request, albums, sorts=ALBUM_SORTS, default="date_desc")
        return Response(
            {"albums": [album_representation(a, request) for a in page.items], **page.links}
        )


class AlbumView(APIView):
    permission_classes = [IsSiteUser]

    @extend_schema(
        operation_id="user_albums_retrieve",
        summary="One of your albums",
        parameters=_ONE,
        responses={200: AlbumBodySerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        return Response(_album_body(_album_or_404(request, id), request))

    @extend_schema(
        operation_id="user_albums_partial_update",
        summary="Edit, move or set the cover of an album",
        parameters=_ONE,
        request=AlbumEditSerializer,
        responses={200: AlbumBodySerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        album = _album_or_404(request, id)
        refuse_unknown_fields(request.data, AlbumEditSerializer().fields)
        data = _validated(AlbumEditSerializer, request.data)
        edits = {k: data[k] for k in ("name", "description", "privacy", "password") if k in data}
        if "cover_id" in data:
            edits["cover"] = _cover_or_400(data["cover_id"], album=album)
        try:
            with transaction.atomic():
                if "parent_id" in data:
                    parent = _parent_or_400(data["parent_id"], owner_id=album.owner_id)
                    album_move(album=album, parent=parent)
                if edits:
                    album_edit(album=album, **edits)
        except AlbumError as error:
            raise _domain(error) from None
        album = _albums_for(request).get(pk=album.pk)
        return Response(_album_body(album, request))

    @extend_schema(
        operation_id="user_albums_destroy",
        summary="Delete an album and its sub-albums, with or without their uploads",
        parameters=[*_ONE, _WITH_IMAGES],
        responses={200: DeletedSerializer, **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request: Request, id: str) -> Response:
        strict_query(request, {"with_images"})
        album = _album_or_404(request, id)
        album_delete(album=album, with_images=_with_images(request))
        return Response({"deleted": id})


class AlbumContentsView(APIView):
    permission_classes = [IsSiteUser]

    @extend_schema(
        operation_id="user_albums_contents",
        summary="The uploads and sub-albums of one of your albums",
        parameters=[*_ONE, *paging_parameters(IMAGE_SORTS, "date_desc")],
        responses={200: AlbumContentsSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request, id: str) -> Response:
        strict_query(request, PAGING)
        album = _album_or_404(request, id)
        viewer = viewer_of(request)
        images = album_images_visible_to(viewer=viewer, album=album)
        page = keyset_page(request, images, sorts=IMAGE_SORTS, default="date_desc")
        children: list[Album] = []
        if not request.query_params.get("cursor"):
            children = list(album_children_visible_to(viewer=viewer, album=album))
        return Response(
            {
                "album": album_representation(album, request),
                "albums": [album_representation(child, request) for child in children],
                "images": images_representation(page.items, request),
                **page.links,
            }
        )


class AlbumBulkDeleteView(APIView):
    permission_classes = [IsSiteUser]

    @extend_schema(
        operation_id="user_albums_bulk_destroy",
        summary="Delete albums (each with its sub-albums)",
        parameters=[
            OpenApiParameter(
                "album_ids",
                ID_LIST_TEXT_SCHEMA,
                required=True,
                description="Up to 100 ids, comma-separated (or a JSON list in the body)",
            ),
            _WITH_IMAGES,
        ],
        responses={200: BulkResultSerializer, **error_responses(400, 401, 403)},
    )
    def delete(self, request: Request) -> Response:
        strict_query(request, {"album_ids", "with_images"})
        encoded_ids = bulk_ids_from(request, "album_ids")
        with_images = _with_images(request)
        albums = _albums_by_encoded_id(request, encoded_ids)
        result = BulkResult()
        for encoded in encoded_ids:
            album = albums.get(encoded)
            if album is None:
                result.fail(encoded, "Album not found.")
                continue
            # An album already gone with a parent earlier in the list counts as deleted.
            album_delete(album=album, with_images=with_images)
            result.ok(album.pk)
        return Response(result.body())


class AlbumBulkParentView(APIView):
    permission_classes = [IsSiteUser]

    @extend_schema(
        operation_id="user_albums_bulk_parent",
        summary="Move albums under one parent (or to the top level)",
        request=BulkParentSerializer,
        responses={200: BulkResultSerializer, **error_responses(400, 401, 403)},
    )
    def patch(self, request: Request) -> Response:
        strict_query(request, ())
        encoded_ids = bulk_ids_from(request, "album_ids")
        data = request.data
        if hasattr(data, "getlist") or isinstance(data, dict):
            raw_parent = data.get("parent_id")
        else:
            raw_parent = None
        parent_data = _validated(
            BulkParentSerializer, {"album_ids": encoded_ids, "parent_id": raw_parent}
        )
        albums = _albums_by_encoded_id(request, encoded_ids)
        parent = self._parent(request, parent_data.get("parent_id"))
        result = BulkResult()
        for encoded in encoded_ids:
            album = albums.get(encoded)
            if album is None:
                result.fail(encoded, "Album not found.")
                continue
            try:
                album_move(album=album, parent=parent)
            except AlbumError as error:
                result.fail(encoded, str(error))
                continue
            result.ok(album.pk)
        return Response(result.body())

    @staticmethod
    def _parent(request: Request, encoded: str | None) -> Album | None:
        if encoded in (None, ""):
            return None
        try:
            pk = decode_id(encoded)
        except InvalidEncodedId:
            pk = None
        parent = _albums_for(request).filter(pk=pk).first() if pk else None
        if parent is None:
            raise exceptions.ValidationError({"parent_id": "Parent album not found."})
        return parent


def _albums_by_encoded_id(request: Request, encoded_ids: list[str]) -> dict[str, Album]:
    """The caller's albums among the ids, in one query; bad and foreign ids are left out."""
    pks: dict[int, str] = {}
    for encoded in encoded_ids:
        try:
            pks[decode_id(encoded)] = encoded
        except InvalidEncodedId:
            continue
    found = _albums_for(request).filter(pk__in=list(pks))
    return {pks[album.pk]: album for album in found}


urlpatterns: list[URLPattern] = [
    path("user/albums/", AlbumCreateView.as_view(), name="api-v4-user-albums"),
    # Literal routes before `<str:id>/`, which would take "list" for an id.
    path("user/albums/list/", AlbumListView.as_view(), name="api-v4-user-albums-list"),
    path("user/albums/bulk/", AlbumBulkDeleteView.as_view(), name="api-v4-user-albums-bulk"),
    path(
        "user/albums/bulk/parent/",
        AlbumBulkParentView.as_view(),
        name="api-v4-user-albums-bulk-parent",
    ),
    path("user/albums/<str:id>/", AlbumView.as_view(), name="api-v4-user-album"),
    path(
        "user/albums/<str:id>/contents/",
        AlbumContentsView.as_view(),
        name="api-v4-user-album-contents",
    ),
]
