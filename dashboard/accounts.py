"""Login (throttled per username and address, and per address), logout, the CSRF failure page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import get_token, rotate_token
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from . import login_throttle, roles, views
from .demo import DEMO_PASSWORD, DEMO_USERNAMES
from .logging import security_event
from .rendering import current_path, wants_fragment
from .signals import client_ip
from .upstreams import DEFAULT, get_upstream


class ThrottledAuthenticationForm(AuthenticationForm):
    """Checks a password only while the (username, address) pair and the address are under
    their limits (see `login_throttle`); otherwise says how long to wait."""

    error_messages = {  # noqa: RUF012
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed attempts. Try again in %(wait)s.",
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if not (username and self.cleaned_data.get("password")) or self.request is None:
            return super().clean()  # no password is checked, so nothing is counted
        ip = client_ip(self.request)
        attempt = login_throttle.begin(username, ip)
        if isinstance(attempt, login_throttle.Refusal):
            security_event("login.throttled", user=username, ip=ip, scope=attempt.scope)
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"wait": _wait_words(attempt.seconds)},
            )
        cleaned = super().clean()  # a failure keeps its reserved slot: it is counted
        login_throttle.succeeded(attempt)
        return cleaned

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if get_upstream(DEFAULT).is_sandbox or user.get_username() not in DEMO_USERNAMES:
            return
        if user.check_password(DEMO_PASSWORD):  # a leftover demo account facing a real API
            username = user.get_username()
            security_event("login.demo_refused", user=username, ip=client_ip(self.request))
            raise forms.ValidationError(
                "Demo logins work only on the sandbox. Ask an admin for an account.",
                code="demo_account",
            )


def _wait_words(seconds: int) -> str:
    """`1 minute`, `15 minutes`, `2 hours`: rounded up, so it is never too early."""
    minutes = -(-seconds // 60)
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{-(-minutes // 60)} hours"


class LoginView(auth_views.LoginView):
    """Django's login. A signed-in user is sent on, except after an expired session or token
    (`?expired=1`, the "sign in again" form) and on every POST: signing in as someone else
    replaces the session (Django's `login()` flushes it) and is logged."""

    redirect_authenticated_user = True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST" or request.GET.get("expired"):
            self.redirect_authenticated_user = False
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        previous, user = self.request.user, form.get_user()
        if previous.is_authenticated and previous.pk != user.pk:
            security_event(
                "login.switch_user",
                **{"from": previous.get_username(), "to": user.get_username()},
                ip=client_ip(self.request),
            )
        elif previous.is_authenticated:  # login() keeps the key for the same user: renew it
            self.request.session.cycle_key()
        return super().form_valid(form)


login_view = login_not_required(
    require_http_methods(["GET", "HEAD", "POST"])(
        LoginView.as_view(
            template_name="login.html",
            authentication_form=ThrottledAuthenticationForm,
            extra_context={"page_title": "Sign in"},
        )
    )
)
logout_view = require_POST(auth_views.LogoutView.as_view())  # a GET must not sign anyone out


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
    if (
        match
        and match.url_name == "model-delete"
        and roles.can_delete(request.user, match.kwargs["alias"])
    ):
        response = views.delete_confirmation_again(
            request, match.kwargs["alias"], match.kwargs["model_id"], notice=STALE_TOKEN_MESSAGE
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
    return reverse("index")


def _sign_in_again_url(request: HttpRequest) -> str:
    """The login page, saying the session expired, then back to where the user was."""
    back = current_path(request)
    if back is None:
        back = request.path if request.method == "GET" else reverse("index")
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
