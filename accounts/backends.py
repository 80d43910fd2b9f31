"""The login backend: Django's ModelBackend, with every failed login costing one hash.

ModelBackend already runs the password hasher for an unknown username, so a wrong guess
takes as long whether or not the account exists. It skips the hasher for an account
without a usable password (imported without one, made by an admin for a password reset),
which would let response times tell those accounts apart from unknown names.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class LoginBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        model = get_user_model()
        if username is None:
            username = kwargs.get(model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist:
            model().set_password(password)  # the same work as a real check
            return None
        if not user.has_usable_password():
            model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
