"""API V4: people (see DESIGN.md §7).

- `user/account/settings/`, `user/account/api-key/`: the caller's own account (api_v4.views);
- `user/{username}/assets/avatar/` and `.../background/` (Chevereto's singular `user/`):
  the profile images of the caller, or of anyone for staff;
- `users/list/`, `users/{username}/`, `users/{username}/images/`, `users/{username}/albums/`:
  public profiles and what hangs off them, as `accounts.selectors.user_profile_for` allows;
- the discovery routes (api_v4.discovery).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.urls import URLPattern, path
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import user_get_by_username, user_profile_for, users_listed
from albums.selectors import albums_visible_to
from api_v4 import discovery
from api_v4.base import (
    ENCODED_ID_FILTER_SCHEMA,
    PAGING,
    IsSiteUser,
    encoded_id_filter,
    not_found,
    strict_query,
    viewer_of,
)
from api_v4.discovery import choice_param, shows_nsfw, text_param, text_parameter
from api_v4.errors import query_refused
from api_v4.pagination import Sort, keyset_page, paging_parameters
from api_v4.schema import error_responses
from api_v4.serializers import (
    AlbumListSerializer,
    ImageListSerializer,
    UserBodySerializer,
    UserListSerializer,
)
from api_v4.views import AccountSettingsView, ApiKeyView
from chevereto.core.errors import error_body
from uploads import sources
from uploads.errors import CODE_EMPTY_SOURCE, CODE_INVALID, UploadError, too_big
from uploads.params import ascii_int
from uploads.parsers import SafeJSONParser, StreamingFormParser, StreamingMultiPartParser
from uploads.policy import largest_upload_bytes, max_upload_bytes
from uploads.profile_assets import profile_image_clear, profile_image_precheck, profile_image_set
from uploads.representation import (
    album_representation,
    images_representation,
    user_representation,
)
from uploads.search import MEDIA_TYPES, images_listed, images_media_filter, users_search
from uploads.upload_request import source_body_schema

USERNAME = OpenApiParameter(
    "username", str, OpenApiParameter.PATH, description="The user's username (any case)"
)
# Multipart boundaries and the other fields cost a little more than the file itself;
# base64 costs 4/3 of it.
_BODY_SLACK = 256 * 1024


def _profile_or_404(request: Request, username: str) -> User:
    viewer = viewer_of(request)
    user = user_profile_for(
        username=username, viewer_user_id=viewer.user_id, viewer_is_staff=viewer.is_staff
    )
    if user is None:
        raise not_found("User")
    return user


# -- profile images ------------------------------------------------------------------------


class _Limits:
    """The upload size limit of the caller, for the streaming body parsers."""

    def __init__(self, view: APIView) -> None:
        self.view = view

    def initial_upload_limit(self) -> int:
        user = getattr(self.view, "request", None) and self.view.request.user
        if user is not None and user.is_authenticated:
            return max_upload_bytes(user=user)
        return largest_upload_bytes()

    def upload_limit_for_key(self, raw: str) -> int:
        # The caller was authenticated before the body was read; a key in it changes nothing.
        return self.initial_upload_limit()


def _close_streamed(request: Request) -> None:
    """Delete base64 the body parser decoded but no step took (a refused request)."""
    files = getattr(request, "_files", None)
    if not isinstance(files, MultiValueDict):
        return
    for _, held in files.lists():
        for item in held:
            if isinstance(item, sources.SourceFile):
                item.close()


class _ProfileImageView(APIView):
    """POST a new avatar or background, DELETE the current one."""

    kind = ""
    permission_classes = [IsSiteUser]
    parser_classes = [StreamingMultiPartParser, StreamingFormParser, SafeJSONParser]

    def get_parser_context(self, http_request: HttpRequest) -> dict[str, Any]:
        context = super().get_parser_context(http_request)
        context["limits"] = _Limits(self)
        return context

    def handle_exception(self, exc: Exception) -> Response:
        # The upload pipeline's errors keep their Chevereto code and status.
        if isinstance(exc, UploadError):
            body = error_body(status=exc.status, message=exc.message, code=exc.code)
            return Response(body, status=exc.status)
        if query_refused(exc, self.request):
            return super().handle_exception(exc)
        if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
            body = error_body(status=413, message="Request body too big", code=CODE_INVALID)
            return Response(body, status=413)
        return super().handle_exception(exc)

    def _target(self, request: Request, username: str) -> User:
        """The user whose image changes: the caller, or anyone for staff. Someone else's
        name is a 404, as if there were no such user."""
        caller = request.user
        if username.lower() == caller.username.lower():
            return caller
        target = user_get_by_username(username) if caller.is_staff else None
        if target is None:
            raise not_found("User")
        return target

    def _sent(self, request: Request) -> UploadedFile | sources.SourceFile | str:
        data = request.data
        for name in ("source", "image"):
            got = request.FILES.get(name)
            if got is not None:
                return got
            value = data.get(name) if hasattr(data, "get") else None
            if isinstance(value, str) and value.strip():
                return value.strip()
            if value is not None and not isinstance(value, str):
                raise UploadError(f"{name}: a file, base64 or a URL", code=CODE_INVALID)
        raise UploadError("Empty upload source", code=CODE_EMPTY_SOURCE, status=400)

    def _open(self, request: Request, sent: Any) -> sources.SourceFile:
        user = request.user
        if isinstance(sent, sources.SourceFile):
            origin = sent.origin
        elif isinstance(sent, UploadedFile):
            origin = sources.Origin.FILE
        elif sources.looks_like_url(sent):
            origin = sources.Origin.URL
        else:
            origin = sources.Origin.BASE64
        # Before anything is fetched or decoded for a request refused anyway.
        profile_image_precheck(user=user, origin=origin)
        limit = max_upload_bytes(user=user)
        if isinstance(sent, sources.SourceFile):
            return sent
        if isinstance(sent, UploadedFile):
            return sources.from_uploaded_file(sent, max_bytes=limit)
        if origin == sources.Origin.URL:
            return sources.from_url(sent, max_bytes=limit)
        return sources.from_base64(sent, max_bytes=limit)

    def _set(self, request: Request, username: str) -> Response:
        try:
            target = self._target(request, username)
            length = ascii_int((request.META.get("CONTENT_LENGTH") or "0").strip()) or 0
            limit = max_upload_bytes(user=request.user)
            if length > limit * 4 // 3 + _BODY_SLACK:
                raise too_big(limit)
            with self._open(request, self._sent(request)) as source:
                profile_image_set(user=target, kind=self.kind, source=source)
        finally:
            _close_streamed(request)
        return Response({"user": user_representation(target, request)})

    def _clear(self, request: Request, username: str) -> Response:
        target = self._target(request, username)
        profile_image_clear(user=target, kind=self.kind)
        return Response({"user": user_representation(target, request)})


_IMAGE_ERRORS = error_responses(400, 401, 403, 404, 413, 415)
# The picture comes as a file, base64 or a URL, like an upload's source.
_SOURCE_BODIES = {
    "multipart/form-data": source_body_schema(files=True),
    "application/x-www-form-urlencoded": source_body_schema(files=False),
    "application/json": source_body_schema(files=False),
}


class AvatarView(_ProfileImageView):
    kind = "avatar"

    @extend_schema(
        operation_id="api_v4_user_avatar_set",
        summary="Set a profile picture (square, 256 px)",
        parameters=[USERNAME],
        request=_SOURCE_BODIES,
        responses={200: UserBodySerializer, **_IMAGE_ERRORS},
    )
    def post(self, request: Request, username: str) -> Response:
        return self._set(request, username)

    @extend_schema(
        operation_id="api_v4_user_avatar_delete",
        summary="Remove the profile picture",
        parameters=[USERNAME],
        request=None,
        responses={200: UserBodySerializer, **error_responses(401, 403, 404)},
    )
    def delete(self, request: Request, username: str) -> Response:
        return self._clear(request, username)


class BackgroundView(_ProfileImageView):
    kind = "background"

    @extend_schema(
        operation_id="api_v4_user_background_set",
        summary="Set a profile background (at most 1920 px wide)",
        parameters=[USERNAME],
        request=_SOURCE_BODIES,
        responses={200: UserBodySerializer, **_IMAGE_ERRORS},
    )
    def post(self, request: Request, username: str) -> Response:
        return self._set(request, username)

    @extend_schema(
        operation_id="api_v4_user_background_delete",
        summary="Remove the profile background",
        parameters=[USERNAME],
        request=None,
        responses={200: UserBodySerializer, **error_responses(401, 403, 404)},
    )
    def delete(self, request: Request, username: str) -> Response:
        return self._clear(request, username)


# -- public profiles -----------------------------------------------------------------------

USER_SORTS = {
    "date_desc": Sort.of("-date_joined", "-id"),
    "date_asc": Sort.of("date_joined", "id"),
    "username_asc": Sort.of("username", "id"),
    "image_count_desc": Sort.of("-image_count", "-id"),
    "followers_desc": Sort.of("-followers_count", "-id"),
}
IMAGE_SORTS = {
    "date_desc": Sort.of("-created_at", "-id"),
    "date_asc": Sort.of("created_at", "id"),
    "views_desc": Sort.of("-views", "-id"),
    "likes_desc": Sort.of("-likes", "-id"),
}
ALBUM_SORTS = {
    "date_desc": Sort.of("-created_at", "-id"),
    "date_asc": Sort.of("created_at", "id"),
    "name_asc": Sort.of("name", "id"),
    "image_count_desc": Sort.of("-image_count", "-id"),
    "likes_desc": Sort.of("-likes", "-id"),
}
_PUBLIC_ERRORS = error_responses(400, 401, 404)


class UsersListView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="api_v4_users_list",
        summary="Public profiles",
        parameters=[
            text_parameter("q", "Part of a username or name"),
            *paging_parameters(USER_SORTS, "date_desc"),
        ],
        responses={200: UserListSerializer, **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, PAGING | {"q"})
        q = text_param(request, "q")
        viewer = viewer_of(request)
        people = (
            users_search(viewer=viewer, q=q)
            if q
            else users_listed(viewer_user_id=viewer.user_id, viewer_is_staff=viewer.is_staff)
        )
        page = keyset_page(request, people, sorts=USER_SORTS, default="date_desc")
        return Response(
            {"users": [user_representation(u, request) for u in page.items], **page.links}
        )


class UserProfileView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="api_v4_users_show",
        summary="A public profile",
        parameters=[USERNAME],
        responses={200: UserBodySerializer, **_PUBLIC_ERRORS},
    )
    def get(self, request: Request, username: str) -> Response:
        strict_query(request, ())
        user = _profile_or_404(request, username)
        return Response({"user": user_representation(user, request)})


class UserImagesView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="api_v4_users_images",
        summary="A profile's uploads you may see",
        parameters=[
            USERNAME,
            OpenApiParameter("type", str, enum=list(MEDIA_TYPES)),
            OpenApiParameter(
                "album_id", ENCODED_ID_FILTER_SCHEMA, description="Only this album's (encoded id)"
            ),
            *paging_parameters(IMAGE_SORTS, "date_desc"),
        ],
        responses={200: ImageListSerializer, **_PUBLIC_ERRORS},
    )
    def get(self, request: Request, username: str) -> Response:
        strict_query(request, PAGING | {"type", "album_id"})
        owner = _profile_or_404(request, username)
        media = choice_param(request, "type", MEDIA_TYPES)
        viewer = viewer_of(request)
        # Owners and staff see every upload they may list; others see NSFW ones if asked.
        everything = viewer.is_staff or viewer.owns(owner.pk) or shows_nsfw(request)
        images = images_listed(viewer=viewer, show_nsfw=everything).filter(
            images_media_filter(media), user=owner
        )
        album = request.query_params.get("album_id")
        if album is not None:
            album_pk = encoded_id_filter(album, name="album_id")
            images = images.filter(album_id=album_pk) if album_pk else images.none()
        page = keyset_page(request, images, sorts=IMAGE_SORTS, default="date_desc")
        return Response({"images": images_representation(page.items, request), **page.links})


class UserAlbumsView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="api_v4_users_albums",
        summary="A profile's albums you may see",
        parameters=[USERNAME, *paging_parameters(ALBUM_SORTS, "date_desc")],
        responses={200: AlbumListSerializer, **_PUBLIC_ERRORS},
    )
    def get(self, request: Request, username: str) -> Response:
        strict_query(request, PAGING)
        owner = _profile_or_404(request, username)
        albums = (
            albums_visible_to(viewer=viewer_of(request))
            .filter(owner=owner)
            .select_related("owner", "parent", "cover")
        )
        page = keyset_page(request, albums, sorts=ALBUM_SORTS, default="date_desc")
        return Response(
            {"albums": [album_representation(a, request) for a in page.items], **page.links}
        )


urlpatterns: list[URLPattern] = [
    path(
        "user/account/settings/",
        AccountSettingsView.as_view(),
        name="api-v4-user-account-settings",
    ),
    path("user/account/api-key/", ApiKeyView.as_view(), name="api-v4-user-account-api-key"),
    path(
        "user/<str:username>/assets/avatar/",
        AvatarView.as_view(),
        name="api-v4-user-assets-avatar",
    ),
    path(
        "user/<str:username>/assets/background/",
        BackgroundView.as_view(),
        name="api-v4-user-assets-background",
    ),
    path("users/list/", UsersListView.as_view(), name="api-v4-users-list"),
    path("users/<str:username>/", UserProfileView.as_view(), name="api-v4-users-show"),
    path("users/<str:username>/images/", UserImagesView.as_view(), name="api-v4-users-images"),
    path("users/<str:username>/albums/", UserAlbumsView.as_view(), name="api-v4-users-albums"),
    *discovery.urlpatterns,
]
