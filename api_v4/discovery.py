"""API V4: discovery (*ours*): `explore/`, `search/`, `tags/`, `categories/`.

Public reads over the listing selectors (uploads.search), so they show a viewer exactly
what listings may show them; uploads marked NSFW only to viewers who turned `show_nsfw`
on. Every list is keyset-paginated on stored columns.
"""

from __future__ import annotations

from urllib.parse import quote

from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_v4.base import PAGING, strict_query, viewer_of
from api_v4.pagination import PagingSerializer, Sort, keyset_page, paging_parameters, sort_of
from api_v4.schema import error_responses
from api_v4.serializers import AlbumListSerializer, ImageListSerializer, UserListSerializer
from uploads.models import Category, Tag
from uploads.representation import (
    Urls,
    album_representation,
    images_representation,
    user_representation,
)
from uploads.search import MEDIA_TYPES, QUERY_MAX, SEARCH_TYPES, images_explore, search, tags_listed

EXPLORE_SORTS = {
    "recent": Sort.of("-created_at", "-id"),
    "popular": Sort.of("-likes", "-views", "-id"),
    # Within the trending window (uploads.search.TRENDING_WINDOW), ordered the same way.
    "trending": Sort.of("-likes", "-views", "-id"),
}
SEARCH_SORTS = {
    "date_desc": Sort.of("-created_at", "-id"),
    "date_asc": Sort.of("created_at", "id"),
}
# People have no created_at: the same sorts over when they joined.
_USER_SEARCH_SORTS = {
    "date_desc": Sort.of("-date_joined", "-id"),
    "date_asc": Sort.of("date_joined", "id"),
}
NAME_SORTS = {"name_asc": Sort.of("name", "id")}


# Free text in a query string: no control characters (PostgreSQL refuses a NUL with an
# error, not an empty result); a required one holds at least one character besides spaces.
_TEXT = r"^[^\x00-\x1f]*$"
_TEXT_REQUIRED = r"^[^\x00-\x1f]*[^\x00-\x1f\s][^\x00-\x1f]*$"


def text_parameter(name: str, description: str, *, required: bool = False) -> OpenApiParameter:
    """The schema of a `text_param`, with the limits it checks."""
    schema: dict[str, object] = {
        "type": "string",
        "maxLength": QUERY_MAX,
        "pattern": _TEXT_REQUIRED if required else _TEXT,
    }
    if required:
        schema["minLength"] = 1
    return OpenApiParameter(name, schema, required=required, description=description)


def text_param(request: Request, name: str, *, required: bool = False) -> str | None:
    """A free-text parameter, as `text_parameter` documents it; surrounding spaces are
    dropped, and a blank optional one is as if it were absent."""
    raw = request.query_params.get(name)
    if raw is not None and (len(raw) > QUERY_MAX or any(ord(c) < 32 for c in raw)):
        raise exceptions.ValidationError(
            {name: f"At most {QUERY_MAX} characters, no control characters."}
        )
    value = raw.strip() if raw is not None else ""
    if not value:
        if required:
            raise exceptions.ValidationError({name: "A search text is required."})
        return None
    return value


def choice_param(
    request: Request, name: str, choices: tuple[str, ...], default: str | None = None
) -> str | None:
    """One of `choices`, or `default` when absent. Present but empty is not one of them:
    a 400, as for every enum parameter the schema documents."""
    value = request.query_params.get(name, default)
    if value is None:
        return None
    if value not in choices:
        raise exceptions.ValidationError({name: f"One of {', '.join(choices)}."})
    return value


def shows_nsfw(request: Request) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and getattr(user, "show_nsfw", False))


class ExploreView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="api_v4_explore",
        summary="Explore listed uploads: recent, popular, or trending this week",
        parameters=[
            OpenApiParameter(
                "type",
                str,
                enum=list(MEDIA_TYPES),
                description="image (animated included), video, or animated pictures only",
            ),
            *paging_parameters(EXPLORE_SORTS, "recent"),
        ],
        responses={200: ImageListSerializer, **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, PAGING | {"type"})
        sort = sort_of(request, EXPLORE_SORTS, "recent")
        media = choice_param(request, "type", MEDIA_TYPES)
        images = images_explore(
            viewer=viewer_of(request), show_nsfw=shows_nsfw(request), sort=sort, media=media
        )
        page = keyset_page(request, images, sorts=EXPLORE_SORTS, default="recent")
        return Response({"images": images_representation(page.items, request), **page.links})


SearchResultsSerializer = PolymorphicProxySerializer(
    component_name="SearchResults",
    serializers=[ImageListSerializer, AlbumListSerializer, UserListSerializer],
    resource_type_field_name=None,
)


class SearchView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="api_v4_search",
        summary="Search uploads, albums or people",
        description=(
            "`images`: titles, descriptions and tags of listed uploads; `albums`: names and "
            "descriptions of listed albums; `users`: usernames and names of public profiles. "
            "The body holds `images`, `albums` or `users` accordingly."
        ),
        parameters=[
            text_parameter("q", "What to look for: 1 to 100 characters", required=True),
            OpenApiParameter("type", str, enum=list(SEARCH_TYPES), default="images"),
            *paging_parameters(SEARCH_SORTS, "date_desc"),
        ],
        responses={200: SearchResultsSerializer, **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, PAGING | {"q", "type"})
        q = text_param(request, "q", required=True)
        kind = choice_param(request, "type", SEARCH_TYPES, "images") or "images"
        assert q is not None
        results = search(viewer=viewer_of(request), show_nsfw=shows_nsfw(request), q=q, kind=kind)
        sorts = _USER_SEARCH_SORTS if kind == "users" else SEARCH_SORTS
        page = keyset_page(request, results, sorts=sorts, default="date_desc")
        if kind == "images":
            return Response({kind: images_representation(page.items, request), **page.links})
        show = album_representation if kind == "albums" else user_representation
        return Response({kind: [show(item, request) for item in page.items], **page.links})


class TagSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    url = serializers.URLField()


class TagListSerializer(PagingSerializer):
    tags = TagSerializer(many=True)


class CategorySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="What `category_id` takes")
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    url = serializers.URLField()


class CategoryListSerializer(PagingSerializer):
    categories = CategorySerializer(many=True)


class TagsView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="api_v4_tags",
        summary="Tags of listed uploads",
        parameters=[
            text_parameter("q", "Part of the tag's name"),
            *paging_parameters(NAME_SORTS, "name_asc"),
        ],
        responses={200: TagListSerializer, **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, PAGING | {"q"})
        tags = tags_listed(viewer=viewer_of(request), q=text_param(request, "q"))
        page = keyset_page(request, tags, sorts=NAME_SORTS, default="name_asc")
        url = Urls(request)
        return Response({"tags": [_tag(t, url) for t in page.items], **page.links})


def _tag(tag: Tag, url: Urls) -> dict[str, object]:
    return {"name": tag.name, "slug": tag.slug, "url": url(f"/tag/{quote(tag.name)}")}


class CategoriesView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="api_v4_categories",
        summary="Categories",
        parameters=paging_parameters(NAME_SORTS, "name_asc"),
        responses={200: CategoryListSerializer, **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, PAGING)
        page = keyset_page(request, Category.objects.all(), sorts=NAME_SORTS, default="name_asc")
        url = Urls(request)
        return Response(
            {
                "categories": [
                    {
                        "id": c.pk,
                        "name": c.name,
                        "slug": c.slug,
                        "description": c.description,
                        "url": url(f"/category/{c.slug}"),
                    }
                    for c in page.items
                ],
                **page.links,
            }
        )


urlpatterns: list[URLPattern] = [
    path("explore/", ExploreView.as_view(), name="api-v4-explore"),
    path("search/", SearchView.as_view(), name="api-v4-search"),
    path("tags/", TagsView.as_view(), name="api-v4-tags"),
    path("categories/", CategoriesView.as_view(), name="api-v4-categories"),
]
