"""Django admin: users (without privilege escalation for Admins, and never deleting oneself or
the last Owner), roles per upstream (the same rule: no way up) and a read-only audit log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from . import roles
from .logging import security_event
from .models import AuditEntry, UpstreamAccess
from .upstreams import upstreams

admin.site.site_header = "Models Dashboard administration"
admin.site.site_title = "Models Dashboard"


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "username",
        "action",
        "model_id",
        "outcome",
        "upstream_status",
        "upstream_request_id",
    )
    list_filter = ("outcome", "action")
    search_fields = ("model_id", "username", "upstream_request_id")
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UpstreamAccessForm(forms.ModelForm):
    """A role on one of the configured upstreams, checked against what the editor may grant."""

    upstream = forms.ChoiceField(help_text="The upstream's alias (UPSTREAMS).")

    class Meta:
        model = UpstreamAccess
        fields = ["user", "upstream", "role"]

    editor: Any = None  # the signed-in user, set by the admin

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["upstream"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (alias, f"{alias} · {upstream.label}")
            for alias, upstream in upstreams().items()
            if roles.may_grant(self.editor, alias, roles.SUPPORT)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        alias, role = cleaned.get("upstream"), cleaned.get("role")
        if alias and role and not roles.may_grant(self.editor, alias, role):
            raise forms.ValidationError(
                f"Only owners of {alias!r} (and superusers) may grant the {role} role there."
            )
        return cleaned


@admin.register(UpstreamAccess)
class UpstreamAccessAdmin(admin.ModelAdmin):
    """Roles per upstream for Admins without a way up: each editor sees and edits the rows of
    the upstreams they are Admin or Owner of; only Owners of an upstream (and superusers)
    grant, change or remove its Owner role."""

    form = UpstreamAccessForm
    list_display = ("user", "upstream", "role")
    list_filter = ("upstream", "role")
    search_fields = ("user__username",)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        base = super().get_form(request, obj, change=change, **kwargs)
        return type(base.__name__, (base,), {"editor": request.user})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        readable = [a for a in upstreams() if roles.may_grant(request.user, a, roles.SUPPORT)]
        return rows.filter(upstream__in=readable)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not roles.may_grant(request.user, obj.upstream, obj.role):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not roles.may_grant(request.user, obj.upstream, obj.role):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        rows = [obj]
        if change:  # the role it had counts too: an Admin does not demote an Owner
            rows.append(UpstreamAccess.objects.get(pk=obj.pk))
        _refuse_grants(request, rows)
        super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        _refuse_grants(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        _refuse_grants(request, list(queryset))
        super().delete_queryset(request, queryset)


def _refuse_grants(request: HttpRequest, rows: list[Any]) -> None:
    """The last word, whichever admin path writes or removes roles per upstream."""
    for row in rows:
        if not roles.may_grant(request.user, row.upstream, row.role):
            security_event(
                "admin.grant_refused",
                user=request.user.get_username(),
                upstream=row.upstream,
                role=row.role,
            )
            raise PermissionDenied(f"You may not grant or remove {row.role} on {row.upstream}.")


class RoleAwareUserAdmin(UserAdmin):
    """User management for Admins without a way up: only owners (and superusers) may grant the
    Owner role or superuser status, or edit an owner's account (its password included).
    No one deletes their own account, or the last active Owner or superuser — nor takes the
    last one's role, superuser status or active flag away on the change form."""

    actions = ["delete_selected"]

    def get_form(
        self, request: HttpRequest, obj: Any | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form

        class KeepsTheLastOwner(form):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                for reason in _why_not_change(obj, cleaned):
                    self.add_error(None, reason)
                return cleaned

        return KeepsTheLastOwner

    def _may_manage_owners(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or roles.can_delete(request.user)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        hidden = {"is_superuser", "user_permissions"}
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in fieldsets
        ]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups" and not self._may_manage_owners(request):
            kwargs["queryset"] = Group.objects.exclude(name=roles.OWNER)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not self._may_manage_owners(request) and _is_privileged(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not self._may_manage_owners(request) and _is_privileged(obj):
            return False
        if obj is not None and _why_not_delete(request, [obj]):
            return False  # no Delete button; the delete page answers 403
        return super().has_delete_permission(request, obj)

    @admin.action(permissions=["delete"], description="Delete selected %(verbose_name_plural)s")
    def delete_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        """Django's bulk delete (which checks only the model permission, not each user),
        refused with a message, nothing deleted, when it would remove the acting account or
        the last active Owner or superuser. Replaces the site-wide action of the same name."""
        if reasons := _why_not_delete(request, list(queryset)):
            security_event(
                "admin.delete_refused",
                user=request.user.get_username(),
                targets=",".join(sorted(u.get_username() for u in queryset)),
                reason="; ".join(reasons),
            )
            self.message_user(
                request, f"Nothing was deleted: {'; '.join(reasons)}.", messages.ERROR
            )
            return None
        return admin_actions.delete_selected(self, request, queryset)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        _refuse(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        _refuse(request, list(queryset))
        super().delete_queryset(request, queryset)


def _is_privileged(user: Any) -> bool:
    return bool(user.is_superuser or user.groups.filter(name=roles.OWNER).exists())


def _why_not_delete(request: HttpRequest, users: list[Any]) -> list[str]:
    """What deleting these users would break: the acting account, or the last active Owner or
    superuser (no one could then delete models or manage owners; their admin history would go
    with them)."""
    pks = {user.pk for user in users}
    reasons = []
    if request.user.pk in pks:
        reasons.append("you cannot delete your own account")
    active = User.objects.filter(is_active=True)
    for label, members in (
        ("Owner", active.filter(groups__name=roles.OWNER)),
        ("superuser", active.filter(is_superuser=True)),
    ):
        if members.filter(pk__in=pks).exists() and not members.exclude(pk__in=pks).exists():
            reasons.append(f"it would remove the last active {label}")
    return reasons


def _why_not_change(user: Any, cleaned: dict[str, Any]) -> list[str]:
    """What saving this change form would break: the last active Owner losing the Owner group
    or being deactivated, the last active superuser losing that status or being deactivated."""
    active = cleaned.get("is_active", user.is_active)
    groups = cleaned.get("groups")
    keeps_owner = active and (groups is None or any(group.name == roles.OWNER for group in groups))
    keeps_superuser = active and cleaned.get("is_superuser", user.is_superuser)
    others = User.objects.filter(is_active=True).exclude(pk=user.pk)
    reasons = []
    owner_now = user.is_active and user.groups.filter(name=roles.OWNER).exists()
    if owner_now and not keeps_owner and not others.filter(groups__name=roles.OWNER).exists():
        reasons.append(
            f"{user.get_username()} is the last active Owner: keep them active and in the "
            "Owner group, or make someone else an Owner first. Nothing was changed."
        )
    superuser_now = user.is_active and user.is_superuser
    if superuser_now and not keeps_superuser and not others.filter(is_superuser=True).exists():
        reasons.append(
            f"{user.get_username()} is the last active superuser: keep them active and a "
            "superuser, or make someone else one first. Nothing was changed."
        )
    return reasons


def _refuse(request: HttpRequest, users: list[Any]) -> None:
    """The last word, whichever admin path deletes users."""
    if reasons := _why_not_delete(request, users):
        raise PermissionDenied("; ".join(reasons))


admin.site.unregister(User)
admin.site.register(User, RoleAwareUserAdmin)
