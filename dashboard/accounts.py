"""Login (throttled per user and per address), logout, and the CSRF failure page."""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.models import User
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache

from .demo import DEMO_PASSWORD, DEMO_USERNAMES
from .logging import security_event
from .rendering import current_path
from .signals import client_ip
from .upstream import current_upstream


def _throttle_keys(request: HttpRequest, username: str) -> dict[str, int]:
    """Cache key -> failures allowed: one counter per username, one per client address."""
    user_digest = hashlib.sha256(username.casefold().encode()).hexdigest()[:32]
    return {
        f"login-fail:user:{user_digest}": settings.LOGIN_FAILURE_LIMIT,
        f"login-fail:ip:{client_ip(request)}": settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS,
    }


class ThrottledAuthenticationForm(AuthenticationForm):
    """Refuses to even try a password after too many recent failures for the user or address."""

    error_messages = {  # noqa: RUF012
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed attempts. Wait a few minutes, then try again.",
    }

    def clean(self) -> dict[str, Any]:
        username = self.data.get("username", "")
        keys = _throttle_keys(self.request, username) if self.request else {}
        if any((cache.get(key) or 0) >= limit for key, limit in keys.items()):
            security_event("login.throttled", user=username, ip=client_ip(self.request))
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            for key in keys:
                cache.add(key, 0, settings.LOGIN_LOCKOUT_SECONDS)
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, settings.LOGIN_LOCKOUT_SECONDS)
            raise
        cache.delete_many([key for key in keys if key.startswith("login-fail:user:")])
        return cleaned

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if current_upstream().is_sandbox or user.get_username() not in DEMO_USERNAMES:
            return
        if user.check_password(DEMO_PASSWORD):  # a leftover demo account facing a real API
            username = user.get_username()
            security_event("login.demo_refused", user=username, ip=client_ip(self.request))
            raise forms.ValidationError(
                "Demo logins work only on the sandbox. Ask an admin for an account.",
                code="demo_account",
            )


class LoginView(auth_views.LoginView):
    """Django's login; after an expired session or token it shows the form even to a user who
    is still signed in, so signing in again gives a fresh session and token."""

    redirect_authenticated_user = True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.GET.get("expired"):
            self.redirect_authenticated_user = False
        return super().dispatch(request, *args, **kwargs)


login_view = login_not_required(
    LoginView.as_view(
        template_name="login.html",
        authentication_form=ThrottledAuthenticationForm,
        extra_context={"page_title": "Sign in"},
    )
)
logout_view = auth_views.LogoutView.as_view()


@login_not_required
@never_cache
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """An expired or missing CSRF token: say so, and for htmx send the user to sign in again."""
    security_event(
        "csrf.failure",
        user=request.user.get_username() if hasattr(request, "user") else "",
        path=request.path,
        reason=reason,
    )
    login_url = _sign_in_again_url(request)
    if request.headers.get("HX-Request"):
        return _htmx_redirect(login_url, status=403)
    return render(
        request,
        "403_csrf.html",
        {"login_url": login_url, "page_title": "Session expired"},
        status=403,
    )


def _sign_in_again_url(request: HttpRequest) -> str:
    """The login page, saying the session expired, then back to where the user was."""
    back = current_path(request)
    if back is None:
        back = request.path if request.method == "GET" else reverse("model-list")
    return reverse("login") + "?" + urlencode({"next": back, "expired": "1"})


def _htmx_redirect(url: str, *, status: int) -> HttpResponse:
    response = HttpResponse(status=status)
    response["HX-Redirect"] = url
    return response


class HtmxLoginRequiredMiddleware(LoginRequiredMiddleware):
    """An htmx request from a signed-out browser gets HX-Redirect to the login page,
    instead of a 302 that htmx would follow and swap the login form into the table."""

    # The stubs type the base's answer as its redirect; Django's process_view passes on any
    # response, and this one is deliberately a 401, not a redirect.
    def handle_no_permission(  # type: ignore[override]
        self, request: HttpRequest, view_func: Any
    ) -> HttpResponse:
        if request.headers.get("HX-Request"):
            return _htmx_redirect(_sign_in_again_url(request), status=401)
        return super().handle_no_permission(request, view_func)
