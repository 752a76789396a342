"""Login (throttled per user and per address), logout, and the CSRF failure page."""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.models import User
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import get_token, rotate_token
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django_htmx.http import trigger_client_event

from . import roles, views
from .demo import DEMO_PASSWORD, DEMO_USERNAMES
from .logging import security_event
from .rendering import current_path, wants_fragment
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


STALE_TOKEN_MESSAGE = (
    "This page was out of date (it was open while you signed in elsewhere or the security "
    "token changed). Nothing was done. Try again."
)


@login_not_required
@never_cache
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A CSRF check failed. Signed out, the session expired: sign in again. Still signed in,
    the page was out of date: say so, nothing was done, and the page gets a fresh token."""
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    security_event(
        "csrf.failure",
        user=user.get_username() if user is not None else "",
        path=request.path,
        reason=reason,
        session="valid" if signed_in else "none",
    )
    if signed_in:
        rotate_token(request)  # the response sets the new cookie; pages rendered now use it
        return _out_of_date(request)
    login_url = _sign_in_again_url(request)
    if request.headers.get("HX-Request"):
        return _htmx_redirect(login_url, status=403)
    return render(
        request,
        "403_csrf.html",
        {"login_url": login_url, "page_title": "Session expired"},
        status=403,
    )


def _out_of_date(request: HttpRequest) -> HttpResponse:
    """The delete confirmation comes back as it was typed; any other form says what happened
    (for htmx in the messages area, with the new token handed to the page's script)."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    if match and match.url_name == "model-delete" and roles.can_delete(request.user):
        response = views.delete_confirmation_again(
            request, match.kwargs["model_id"], notice=STALE_TOKEN_MESSAGE
        )
    elif wants_fragment(request):
        messages.warning(request, STALE_TOKEN_MESSAGE)
        response = render(request, "messages.html", status=403)
        response["HX-Retarget"] = "#messages"
        response["HX-Reswap"] = "innerHTML"
    else:
        context = {"message": STALE_TOKEN_MESSAGE, "back_url": _back_url(request)}
        response = render(
            request, "403_csrf.html", {**context, "page_title": "Page out of date"}, status=403
        )
    if wants_fragment(request):
        trigger_client_event(response, "csrf-token", {"token": get_token(request)})
    return response


def _back_url(request: HttpRequest) -> str:
    """The page the form was on (the Referer, if it is this site), else the model list."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return reverse("model-list")


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
