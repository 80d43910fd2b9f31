"""API V4: likes, follows, followers/following lists and social notifications (DESIGN.md §7).

Likes and follows answer the liked or followed resource with its updated counters, plus a
flag saying whether the caller likes (follows) it now:
`{"image": {...}, "liked": true}`, `{"album": {...}, "liked": false}`,
`{"user": {...}, "following": true}`. POST and DELETE are idempotent: liking twice still
answers 200 with one like counted.

An image, album or profile the caller may not see is a 404, the same as one that does not
exist (the visibility selectors decide, never this module).
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import user_get_by_username, user_profile_visible_to
from albums.models import Album
from api_v4.base import (
    PAGING,
    IsSiteUser,
    StrictBooleanField,
    decode_or_404,
    id_path_parameter,
    not_found,
    strict_query,
    viewer_of,
)
from api_v4.pagination import PagingSerializer, Sort, keyset_page, paging_parameters
from api_v4.schema import error_responses
from api_v4.serializers import (
    AlbumSerializer,
    ImageSerializer,
    UserListSerializer,
    UserSerializer,
)
from social.representation import notification_representation
from social.selectors import (
    album_get_for_like,
    followers_of,
    following_of,
    notifications_for,
)
from social.services import (
    CannotFollowYourself,
    NotificationNotFound,
    SocialTargetNotFound,
    follow_add,
    follow_remove,
    like_add,
    like_remove,
    notification_mark_read,
)
from uploads.models import Image
from uploads.representation import album_representation, image_representation, user_representation
from uploads.selectors import image_get_by_encoded_id

S = serializers

# Newest first by default; the id breaks ties between rows made in the same instant.
DATE_SORTS = {"date_desc": Sort.of("-created_at", "-id"), "date_asc": Sort.of("created_at", "id")}
DEFAULT_SORT = "date_desc"

USERNAME_PARAMETER = OpenApiParameter(
    "username", str, OpenApiParameter.PATH, description="The user's username"
)


class ImageLikeBodySerializer(S.Serializer):
    image = ImageSerializer()
    liked = S.BooleanField(help_text="Whether you like the image now")


class AlbumLikeBodySerializer(S.Serializer):
    album = AlbumSerializer()
    liked = S.BooleanField(help_text="Whether you like the album now")


class FollowBodySerializer(S.Serializer):
    user = UserSerializer()
    following = S.BooleanField(help_text="Whether you follow the user now")


class NotificationSerializer(S.Serializer):
    id = S.CharField(help_text="The notification's encoded id")
    kind = S.ChoiceField(choices=["like", "follow"])
    is_read = S.BooleanField()
    date = S.CharField(help_text="Site time, YYYY-MM-DD HH:MM:SS")
    date_gmt = S.CharField()
    actor = UserSerializer(help_text="Who liked or followed")
    image = ImageSerializer(allow_null=True, help_text="The liked image, if an image")
    album = AlbumSerializer(allow_null=True, help_text="The liked album, if an album")


class NotificationListSerializer(PagingSerializer):
    notifications = NotificationSerializer(many=True)


class NotificationBodySerializer(S.Serializer):
    notification = NotificationSerializer()


class NotificationPatchSerializer(S.Serializer):
    is_read = StrictBooleanField(default=True, help_text="Read (default) or unread again")


def _no_query(request: Request) -> None:
    strict_query(request, ())


# --- likes ------------------------------------------------------------------------------------


def _image_for(id: str) -> Image:
    image = image_get_by_encoded_id(id)
    if image is None:
        raise not_found("Image")
    return image


def _album_for(id: str) -> Album:
    album = album_get_for_like(album_id=decode_or_404(id, what="Album"))
    if album is None:
        raise not_found("Album")
    return album


_LIKE_ERRORS = error_responses(400, 401, 403, 404)


class ImageLikeView(APIView):
    """Like or unlike an image you may see."""

    permission_classes = [IsSiteUser]

    def _act(self, request: Request, id: str, *, like: bool) -> Response:
        _no_query(request)
        image = _image_for(id)
        action = like_add if like else like_remove
        try:
            action(user=request.user, image=image, viewer=viewer_of(request))
        except SocialTargetNotFound:
            raise not_found("Image") from None
        return Response({"image": image_representation(image, request), "liked": like})

    @extend_schema(
        operation_id="user_image_like",
        summary="Like an image",
        request=None,
        parameters=[id_path_parameter("image")],
        responses={200: ImageLikeBodySerializer, **_LIKE_ERRORS},
    )
    def post(self, request: Request, id: str) -> Response:
        return self._act(request, id, like=True)

    @extend_schema(
        operation_id="user_image_unlike",
        summary="Unlike an image",
        request=None,
        parameters=[id_path_parameter("image")],
        responses={200: ImageLikeBodySerializer, **_LIKE_ERRORS},
    )
    def delete(self, request: Request, id: str) -> Response:
        return self._act(request, id, like=False)


class AlbumLikeView(APIView):
    """Like or unlike an album you may see."""

    permission_classes = [IsSiteUser]

    def _act(self, request: Request, id: str, *, like: bool) -> Response:
        _no_query(request)
        album = _album_for(id)
        action = like_add if like else like_remove
        try:
            action(user=request.user, album=album, viewer=viewer_of(request))
        except SocialTargetNotFound:
            raise not_found("Album") from None
        return Response({"album": album_representation(album, request), "liked": like})

    @extend_schema(
        operation_id="user_album_like",
        summary="Like an album",
        request=None,
        parameters=[id_path_parameter("album")],
        responses={200: AlbumLikeBodySerializer, **_LIKE_ERRORS},
    )
    def post(self, request: Request, id: str) -> Response:
        return self._act(request, id, like=True)

    @extend_schema(
        operation_id="user_album_unlike",
        summary="Unlike an album",
        request=None,
        parameters=[id_path_parameter("album")],
        responses={200: AlbumLikeBodySerializer, **_LIKE_ERRORS},
    )
    def delete(self, request: Request, id: str) -> Response:
        return self._act(request, id, like=False)


# --- follows ----------------------------------------------------------------------------------


def _profile_for(request: Request, username: str) -> User:
    """The user behind `username` if the caller may see the profile, else a 404."""
    user = user_get_by_username(username)
    viewer = viewer_of(request)
    if user is None or not user_profile_visible_to(
        viewer_user_id=viewer.user_id, viewer_is_staff=viewer.is_staff, user=user
    ):
        raise not_found("User")
    return user


class FollowView(APIView):
    """Follow or unfollow a user whose profile you may see (never yourself)."""

    permission_classes = [IsSiteUser]

    def _act(self, request: Request, username: str, *, follow: bool) -> Response:
        _no_query(request)
        followed = _profile_for(request, username)
        action = follow_add if follow else follow_remove
        try:
            action(follower=request.user, followed=followed)
        except CannotFollowYourself as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        except SocialTargetNotFound:
            raise not_found("User") from None
        return Response({"user": user_representation(followed, request), "following": follow})

    @extend_schema(
        operation_id="user_follow",
        summary="Follow a user",
        request=None,
        parameters=[USERNAME_PARAMETER],
        responses={200: FollowBodySerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, username: str) -> Response:
        return self._act(request, username, follow=True)

    @extend_schema(
        operation_id="user_unfollow",
        summary="Unfollow a user",
        request=None,
        parameters=[USERNAME_PARAMETER],
        responses={200: FollowBodySerializer, **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request: Request, username: str) -> Response:
        return self._act(request, username, follow=False)


def _people_page(request: Request, username: str, *, followers: bool) -> Response:
    strict_query(request, PAGING)
    user = _profile_for(request, username)
    viewer = viewer_of(request)
    select = followers_of if followers else following_of
    rows = select(user=user, viewer_user_id=viewer.user_id, viewer_is_staff=viewer.is_staff)
    page = keyset_page(request, rows, sorts=DATE_SORTS, default=DEFAULT_SORT)
    people = [row.follower if followers else row.followed for row in page.items]
    return Response({"users": [user_representation(u, request) for u in people], **page.links})


_PEOPLE_PARAMETERS = [USERNAME_PARAMETER, *paging_parameters(DATE_SORTS, DEFAULT_SORT)]


class FollowersView(APIView):
    """Who follows a user, by follow date (public when the profile is)."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="user_followers",
        summary="A user's followers",
        parameters=_PEOPLE_PARAMETERS,
        responses={200: UserListSerializer, **error_responses(400, 401, 404)},
    )
    def get(self, request: Request, username: str) -> Response:
        return _people_page(request, username, followers=True)


class FollowingView(APIView):
    """Whom a user follows, by follow date (public when the profile is)."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="user_following",
        summary="Whom a user follows",
        parameters=_PEOPLE_PARAMETERS,
        responses={200: UserListSerializer, **error_responses(400, 401, 404)},
    )
    def get(self, request: Request, username: str) -> Response:
        return _people_page(request, username, followers=False)


# --- notifications ----------------------------------------------------------------------------

_READ_FLAGS = {"0": False, "1": True}


def _read_filter(request: Request) -> bool | None:
    raw = request.query_params.get("is_read")
    if raw is None:
        return None
    if raw not in _READ_FLAGS:
        raise exceptions.ValidationError({"is_read": "0 (unread) or 1 (read)."})
    return _READ_FLAGS[raw]


class NotificationsView(APIView):
    """Likes of my images and albums, and follows of me, newest first."""

    permission_classes = [IsSiteUser]

    @extend_schema(
        operation_id="user_notifications_social",
        summary="Your social notifications",
        parameters=[
            OpenApiParameter(
                "is_read", str, enum=["0", "1"], description="Only unread (0) or read (1) ones"
            ),
            *paging_parameters(DATE_SORTS, DEFAULT_SORT),
        ],
        responses={200: NotificationListSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, PAGING | {"is_read"})
        rows = notifications_for(user=request.user, is_read=_read_filter(request))
        page = keyset_page(request, rows, sorts=DATE_SORTS, default=DEFAULT_SORT)
        viewer = viewer_of(request)
        items = [notification_representation(n, request, viewer=viewer) for n in page.items]
        return Response({"notifications": items, **page.links})


class NotificationView(APIView):
    """Mark one of your notifications read (or unread again)."""

    permission_classes = [IsSiteUser]

    @extend_schema(
        operation_id="user_notification_social_update",
        summary="Mark a notification read",
        parameters=[id_path_parameter("notification")],
        request=NotificationPatchSerializer,
        responses={200: NotificationBodySerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, id: str) -> Response:
        _no_query(request)
        pk = decode_or_404(id, what="Notification")
        serializer = NotificationPatchSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        try:
            notification = notification_mark_read(
                user=request.user, notification_id=pk, is_read=serializer.validated_data["is_read"]
            )
        except NotificationNotFound:
            raise not_found("Notification") from None
        body = notification_representation(notification, request, viewer=viewer_of(request))
        return Response({"notification": body})


urlpatterns = [
    path("user/images/<str:id>/like/", ImageLikeView.as_view(), name="api-v4-user-image-like"),
    path("user/albums/<str:id>/like/", AlbumLikeView.as_view(), name="api-v4-user-album-like"),
    path("users/<str:username>/follow/", FollowView.as_view(), name="api-v4-user-follow"),
    path("users/<str:username>/followers/", FollowersView.as_view(), name="api-v4-user-followers"),
    path("users/<str:username>/following/", FollowingView.as_view(), name="api-v4-user-following"),
    path(
        "user/account/notifications/social/",
        NotificationsView.as_view(),
        name="api-v4-user-notifications-social",
    ),
    path(
        "user/account/notifications/social/<str:id>/",
        NotificationView.as_view(),
        name="api-v4-user-notification-social",
    ),
]
