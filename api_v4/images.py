"""API V4: the caller's uploads (DESIGN.md §7), under `user/images/`.

- `POST user/images/`: upload, with API V1's parameters, through the same parsing
  (`uploads.upload_request`) and the same ingest service;
- `GET user/images/list/`: the caller's uploads (staff too: their own), filtered, sorted,
  cursor-paginated;
- `GET/PATCH/DELETE user/images/{id}/`: one upload of the caller (staff: anyone's);
- `PATCH/DELETE user/images/bulk/`: the same edit, or deletion, over up to 100 uploads,
  reported id by id.

Someone else's upload answers exactly like a missing one (404). Deleting answers 200 with
`{"deleted": "<id>"}`. Upload errors keep Chevereto's code and status.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_v4.base import (
    ID_LIST_TEXT_SCHEMA,
    PAGING,
    BulkResult,
    BulkResultSerializer,
    IdListField,
    IsSiteUser,
    WholeBodyMixin,
    bulk_ids_from,
    id_path_parameter,
    not_found,
    strict_query,
)
from api_v4.errors import query_refused
from api_v4.pagination import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    Sort,
    keyset_page,
    paging_parameters,
)
from api_v4.schema import error_responses
from api_v4.serializers import ImageBodySerializer, ImageListSerializer
from chevereto.core.encoding import InvalidEncodedId, decode_id, encode_id
from chevereto.core.errors import error_body
from uploads.edits import (
    BulkReport,
    image_changes_from,
    image_edit_apply,
    images_bulk_delete,
    images_bulk_edit,
)
from uploads.errors import UploadError
from uploads.models import Image
from uploads.params import (
    MAX_DESCRIPTION,
    MAX_EXPIRATION_SECONDS,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TITLE,
)
from uploads.parsers import SafeJSONParser, StreamingFormParser, StreamingMultiPartParser
from uploads.policy import max_upload_bytes
from uploads.representation import image_representation, images_representation
from uploads.selectors import image_of_actor, images_owned_by
from uploads.services import image_delete, image_upload
from uploads.upload_request import (
    FLAG_SCHEMA,
    OPTION_FIELDS,
    SECONDS_SCHEMAS,
    SOURCE_FIELDS,
    TAGS_TEXT_PATTERN,
    Field,
    UserLimits,
    body_error,
    check_body_size,
    client_ip,
    close_streamed,
    open_source,
    pick_source,
    upload_body_schema,
    upload_options,
)

ID = id_path_parameter("image")
# Text a form body may carry beside the fields (the legacy key, Django's CSRF field).
_FORM_EXTRAS = frozenset({"key", "csrfmiddlewaretoken"})


class UploadErrorsMixin:
    """Errors of the upload pipeline and of edits keep Chevereto's code and their status,
    in the one error shape; a body the parsers refused is a 400 or 413, never a 500."""

    def handle_exception(self, exc: Exception) -> Response:
        if query_refused(exc, self.request):  # type: ignore[attr-defined]
            return super().handle_exception(exc)  # type: ignore[misc]
        refused = exc if isinstance(exc, UploadError) else body_error(exc)
        if refused is not None:
            body = error_body(status=refused.status, message=refused.message, code=refused.code)
            return Response(body, status=refused.status)
        return super().handle_exception(exc)  # type: ignore[misc]


# --- Schema: request bodies -----------------------------------------------------------------


@extend_schema_field(FLAG_SCHEMA)
class _FlagField(serializers.Field):
    pass


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": TAGS_TEXT_PATTERN},
            {
                "type": "array",
                "maxItems": MAX_TAGS,
                "items": {"type": "string", "maxLength": MAX_TAG_LENGTH, "pattern": "^[^,]*$"},
            },
        ],
        "nullable": True,
        "description": f"Comma-separated, or a list; at most {MAX_TAGS} tags of "
        f"{MAX_TAG_LENGTH} characters; null or empty: none",
    }
)
class _TagsField(serializers.Field):
    pass


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "string",
                "pattern": r"^(0|[0-9]{1,8}|P(?!$)([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?"
                r"(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+S)?)?)$",
            },
            *SECONDS_SCHEMAS,
        ],
        "nullable": True,
        "description": "An ISO-8601 duration (PT5M to P1Y) or seconds (60 to "
        f"{MAX_EXPIRATION_SECONDS}), from now; 0 or null: never",
    }
)
class _ExpirationField(serializers.Field):
    pass


class ImageEditSerializer(serializers.Serializer):
    """Only the fields sent change."""

    title = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=MAX_TITLE
    )
    description = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=MAX_DESCRIPTION
    )
    tags = _TagsField(required=False)
    category_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="null: no category"
    )
    album_id = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="One of the uploader's albums; null or empty: out of any album",
    )
    is_nsfw = _FlagField(required=False)
    nsfw = _FlagField(required=False, help_text="API V1's name of is_nsfw")
    expiration = _ExpirationField(required=False)
    is_approved = _FlagField(required=False, help_text="Staff only (403 for others)")


class ImageBulkEditSerializer(WholeBodyMixin, ImageEditSerializer):
    """`image_ids` and the fields to set on each upload."""

    image_ids = IdListField()


class ImageDeletedSerializer(serializers.Serializer):
    deleted = serializers.CharField(help_text="The deleted upload's id")


# --- Helpers -------------------------------------------------------------------------------


def _image_or_404(request: Request, encoded: str) -> Image:
    image = image_of_actor(actor=request.user, encoded=encoded)
    if image is None:
        raise not_found("Image")
    return image


def _body(request: Request, *, without: frozenset[str] = frozenset()) -> Mapping[str, Any]:
    """The edit fields of a JSON or form body (a form's repeated field: its last value)."""
    data = request.data
    if not isinstance(data, Mapping):
        raise exceptions.ValidationError("The body must be a JSON object or a form.")
    if hasattr(data, "dict"):
        data = data.dict()
    return {k: v for k, v in data.items() if k not in without and k not in _FORM_EXTRAS}


def _represent(image: Image, request: HttpRequest) -> dict[str, object]:
    return image_representation(image, request)


def _fresh(image: Image) -> Image:
    # Tags prefetched: the body reads them once.
    return Image.objects.prefetch_related("tags").get(pk=image.pk)


def _bulk_body(report: BulkReport) -> dict[str, Any]:
    result = BulkResult()
    for pk in report.edited:
        result.ok(pk)
    for encoded, reason in report.failed:
        result.fail(encoded, reason)
    return result.body()


# --- Upload --------------------------------------------------------------------------------


class ImageUploadView(UploadErrorsMixin, APIView):
    """Upload one image or video as the caller, with API V1's parameters."""

    permission_classes = [IsSiteUser]
    parser_classes = [StreamingMultiPartParser, StreamingFormParser, SafeJSONParser]

    def get_parser_context(self, http_request: HttpRequest) -> dict[str, Any]:
        context = super().get_parser_context(http_request)
        # `_user`, not `user`: reading `user` would authenticate, and the session's CSRF
        # check parses the body while authenticating.
        context["limits"] = UserLimits(lambda: getattr(self.request, "_user", None))
        return context

    @extend_schema(
        operation_id="user_images_upload",
        summary="Upload a file",
        description=(
            "The same parameters as API V1.1 and the same checks. `source` or `image` is "
            "required: a multipart file, a base64 string or an http(s) URL."
        ),
        request={
            "multipart/form-data": upload_body_schema(files=True),
            "application/x-www-form-urlencoded": upload_body_schema(files=False),
            "application/json": upload_body_schema(files=False),
        },
        responses={
            200: ImageBodySerializer,
            # 503: the database or the storage is unavailable (retry); 507: the storage is full.
            **error_responses(400, 401, 403, 409, 413, 415, 429, 503, 507),
        },
    )
    def post(self, request: Request) -> Response:
        return self._upload(request)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Also after a refusal before `post` ran (a session's failed CSRF check has parsed
        # the body by then): base64 decoded to disk and taken by no step is deleted.
        close_streamed(request)
        return super().finalize_response(request, response, *args, **kwargs)

    def _upload(self, request: Request) -> Response:
        user = request.user
        strict_query(request, OPTION_FIELDS | set(SOURCE_FIELDS))
        check_body_size(request, limit=max_upload_bytes(user=user))
        field = Field(request.data, request.query_params, strict_types=True)
        picked = pick_source(request, field)
        options = upload_options(field)
        ip = client_ip(request)
        with open_source(request, picked, user=user, ip=ip) as source:
            result = image_upload(source=source, user=user, ip=ip, **options)
        body = image_representation(result.image, request, delete_token=result.delete_token)
        return Response({"image": body})


# --- List ----------------------------------------------------------------------------------

IMAGE_SORTS = {
    "date_desc": Sort.of("-created_at", "-id"),
    "date_asc": Sort.of("created_at", "id"),
    "size_desc": Sort.of("-size", "-id"),
    "views_desc": Sort.of("-views", "-id"),
    "likes_desc": Sort.of("-likes", "-id"),
}
LIST_FILTERS = frozenset(
    {
        "album_id",
        "type",
        "tag",
        "category_id",
        "nsfw",
        "date_from",
        "date_to",
        "q",
        "is_approved",
    }
)


# Longest encoded id a filter takes (ids of 64-bit keys are far shorter), longest search.
_MAX_ID_LENGTH = 32
_MAX_QUERY = 100


def _bad(name: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({name: message})


def _flag_param(value: str, name: str) -> bool:
    if value not in {"0", "1"}:
        raise _bad(name, "0 or 1.")
    return value == "1"


def _date_param(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(name, "An ISO date, YYYY-MM-DD.") from None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered(images: QuerySet[Image], query: Mapping[str, str]) -> QuerySet[Image]:
    """The list's filters; a value that does not parse is a 400."""
    if (album := query.get("album_id")) is not None:
        if album == "none":
            images = images.filter(album__isnull=True)
        elif not album.isascii() or not album.isalnum() or len(album) > _MAX_ID_LENGTH:
            raise _bad("album_id", "An encoded album id, or `none`.")
        else:
            try:
                images = images.filter(album_id=decode_id(album))
            except InvalidEncodedId:
                # Well formed but naming no album: like an album that is not yours, empty.
                images = images.none()
    if (kind := query.get("type")) is not None:
        if kind not in Image.Kind.values:
            raise _bad("type", "image or video.")
        images = images.filter(kind=kind)
    if (tag := query.get("tag")) is not None and tag.strip():
        if len(tag) > MAX_TAG_LENGTH:
            raise _bad("tag", f"A tag name, at most {MAX_TAG_LENGTH} characters.")
        images = images.filter(tags__name__iexact=" ".join(tag.split()))
    if (category := query.get("category_id")) is not None:
        if not category.isascii() or not category.isdigit() or len(category) > 18:
            raise _bad("category_id", "A category id.")
        if int(category) < 1:
            raise _bad("category_id", "A category id (1 or more).")
        images = images.filter(category_id=int(category))
    if (nsfw := query.get("nsfw")) is not None:
        images = images.filter(nsfw=_flag_param(nsfw, "nsfw"))
    if (approved := query.get("is_approved")) is not None:
        images = images.filter(is_approved=_flag_param(approved, "is_approved"))
    if (since := query.get("date_from")) is not None:
        images = images.filter(created_at__gte=_day_start(_date_param(since, "date_from")))
    if (until := query.get("date_to")) is not None:
        day = _date_param(until, "date_to")
        if day == date.max:
            pass  # no day after it: every date is before its end
        else:
            images = images.filter(created_at__lt=_day_start(date.fromordinal(day.toordinal() + 1)))
    if (text := query.get("q")) is not None:
        text = text.strip()
        if len(text) > _MAX_QUERY:
            raise _bad("q", f"At most {_MAX_QUERY} characters.")
        if text:
            images = images.filter(Q(title__icontains=text) | Q(description__icontains=text))
    return images


def _list_parameters() -> list[OpenApiParameter]:
    paging = [p for p in paging_parameters(IMAGE_SORTS, "date_desc") if p.name != "per_page"]
    return [
        *paging,
        # With its bounds, which `paging_parameters` leaves out of the schema.
        OpenApiParameter(
            "per_page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            description=f"Items per page, 1 to {MAX_PER_PAGE} (default {DEFAULT_PER_PAGE})",
        ),
        OpenApiParameter(
            "album_id",
            {"type": "string", "pattern": f"^[0-9A-Za-z]{{1,{_MAX_ID_LENGTH}}}$"},
            description="An album's encoded id, or `none` for uploads in no album",
        ),
        OpenApiParameter("type", str, enum=list(Image.Kind.values)),
        OpenApiParameter(
            "tag",
            {"type": "string", "maxLength": MAX_TAG_LENGTH},
            description="A tag name (any case)",
        ),
        OpenApiParameter("category_id", {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}),
        OpenApiParameter("nsfw", int, enum=[0, 1]),
        OpenApiParameter("is_approved", int, enum=[0, 1]),
        OpenApiParameter("date_from", OpenApiTypes.DATE, description="Uploaded on or after"),
        OpenApiParameter("date_to", OpenApiTypes.DATE, description="Uploaded on or before"),
        OpenApiParameter(
            "q",
            {"type": "string", "maxLength": _MAX_QUERY},
            description="In the title or description",
        ),
    ]


class ImageListView(APIView):
    """The caller's own uploads (staff too see only theirs here)."""

    permission_classes = [IsSiteUser]

    @extend_schema(
        operation_id="user_images_list",
        summary="List your uploads",
        parameters=_list_parameters(),
        responses={200: ImageListSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, PAGING | LIST_FILTERS)
        images = _filtered(images_owned_by(owner=request.user), request.query_params)
        # One query for the page and one for its tags, whatever its length.
        page = keyset_page(request, images, sorts=IMAGE_SORTS, default="date_desc")
        return Response({"images": images_representation(page.items, request), **page.links})


# --- One upload ----------------------------------------------------------------------------


class ImageView(UploadErrorsMixin, APIView):
    permission_classes = [IsSiteUser]

    @extend_schema(
        operation_id="user_image_get",
        summary="One of your uploads",
        parameters=[ID],
        responses={200: ImageBodySerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        image = _image_or_404(request, id)
        return Response({"image": _represent(_fresh(image), request)})

    @extend_schema(
        operation_id="user_image_edit",
        summary="Edit one of your uploads",
        description="Only the fields sent change. `is_approved` is for staff.",
        parameters=[ID],
        request=ImageEditSerializer,
        responses={200: ImageBodySerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        image = _image_or_404(request, id)
        changes = image_changes_from(_body(request), actor=request.user)
        image_edit_apply(image=image, actor=request.user, changes=changes)
        return Response({"image": _represent(_fresh(image), request)})

    @extend_schema(
        operation_id="user_image_delete",
        summary="Delete one of your uploads",
        parameters=[ID],
        request=None,
        responses={200: ImageDeletedSerializer, **error_responses(401, 403, 404)},
    )
    def delete(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        image = _image_or_404(request, id)
        image_delete(image=image)
        return Response({"deleted": encode_id(image.pk)})


# --- Many uploads --------------------------------------------------------------------------


class ImageBulkView(UploadErrorsMixin, APIView):
    permission_classes = [IsSiteUser]

    @extend_schema(
        operation_id="user_images_bulk_edit",
        summary="Edit many of your uploads",
        description=(
            "The same fields as editing one upload, applied to each of `image_ids`. A bad "
            "value refuses the whole request; ids that are not yours or cannot take the "
            "edit are listed in `failed`. A category that does not exist is a 404."
        ),
        request=ImageBulkEditSerializer,
        responses={200: BulkResultSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request) -> Response:
        # The ids may come in the query: some clients send no body with DELETE.
        strict_query(request, {"image_ids"})
        ids = bulk_ids_from(request, "image_ids")
        body = _body(request, without=frozenset({"image_ids"}))
        changes = image_changes_from(body, actor=request.user)
        report = images_bulk_edit(actor=request.user, encoded_ids=ids, changes=changes)
        return Response(_bulk_body(report))

    @extend_schema(
        operation_id="user_images_bulk_delete",
        summary="Delete many of your uploads",
        parameters=[
            OpenApiParameter(
                "image_ids",
                ID_LIST_TEXT_SCHEMA,
                required=True,
                description="Up to 100 ids, comma-separated (or a JSON list in the body)",
            )
        ],
        request=None,
        responses={200: BulkResultSerializer, **error_responses(400, 401, 403)},
    )
    def delete(self, request: Request) -> Response:
        # The ids may come in the query: some clients send no body with DELETE.
        strict_query(request, {"image_ids"})
        ids = bulk_ids_from(request, "image_ids")
        report = images_bulk_delete(actor=request.user, encoded_ids=ids)
        return Response(_bulk_body(report))


urlpatterns: list[URLPattern] = [
    path("user/images/", ImageUploadView.as_view(), name="api-v4-user-images"),
    path("user/images/list/", ImageListView.as_view(), name="api-v4-user-images-list"),
    path("user/images/bulk/", ImageBulkView.as_view(), name="api-v4-user-images-bulk"),
    path("user/images/<str:id>/", ImageView.as_view(), name="api-v4-user-image"),
]
