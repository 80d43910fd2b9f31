"""Like and follow buttons: small POST forms that work without JavaScript.

`POST /like` (`kind` image|album, `id` encoded, `action` like|unlike) and `POST /follow`
(`username`, `action` follow|unfollow). Without JavaScript the form posts and the answer
redirects back (`next`, a path on this site); `static/js/site.js` posts the same form with
`Accept: application/json` and gets `{"active": bool, "count": int}` to update the button.
The services check visibility, so a like of something the visitor cannot see is a 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.selectors import user_get_by_username
from albums.selectors import viewer_from_request
from chevereto.core.encoding import decode_id
from chevereto.core.idcodec import InvalidEncodedId
from social.selectors import album_get_for_like
from social.services import (
    CannotFollowYourself,
    SocialTargetNotFound,
    follow_add,
    follow_remove,
    like_add,
    like_remove,
)
from uploads.selectors import image_get_by_encoded_id


def _back(request: HttpRequest, fallback: str) -> str:
    wanted = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) and wanted.startswith("/"):
        return wanted
    return fallback


def _answer(request: HttpRequest, *, active: bool, count: int, fallback: str) -> HttpResponse:
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"active": active, "count": count})
    return HttpResponseRedirect(_back(request, fallback), status=303)


def _action(request: HttpRequest, on: str, off: str) -> bool:
    action = request.POST.get("action")
    if action not in {on, off}:
        raise Http404("Unknown action")
    return action == on


@login_required
@require_POST
def like(request: HttpRequest) -> HttpResponse:
    adding = _action(request, "like", "unlike")
    kind = request.POST.get("kind")
    encoded = request.POST.get("id", "")
    viewer = viewer_from_request(request)
    image = album = None
    if kind == "image":
        image = image_get_by_encoded_id(encoded)
        target = image
    elif kind == "album":
        try:
            album = album_get_for_like(album_id=decode_id(encoded))
        except InvalidEncodedId:
            album = None
        target = album
    else:
        raise Http404("Unknown kind")
    if target is None:
        raise Http404("Not found")
    change = like_add if adding else like_remove
    try:
        change(user=request.user, image=image, album=album, viewer=viewer)
    except SocialTargetNotFound:
        raise Http404("Not found") from None
    return _answer(request, active=adding, count=target.likes, fallback="/")


@login_required
@require_POST
def follow(request: HttpRequest) -> HttpResponse:
    adding = _action(request, "follow", "unfollow")
    followed = user_get_by_username(request.POST.get("username", ""))
    if followed is None:
        raise Http404("Not found")
    # Whether this profile may be followed (banned, private) is the service's answer.
    change = follow_add if adding else follow_remove
    try:
        change(follower=request.user, followed=followed)
    except SocialTargetNotFound:
        raise Http404("Not found") from None
    except CannotFollowYourself:
        return HttpResponse("You cannot follow yourself.", status=403)
    return _answer(
        request, active=adding, count=followed.followers_count, fallback=f"/{followed.username}"
    )
