"""Deletion requests, four eyes: asked with a reason (one model or the selection), seen and
counted by the upstream's owners, approved into a deletion job or rejected with a comment,
never decided by the requester, decided once, withdrawn; My requests; all of it audited."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import respx
from django.contrib.auth.models import Group, User
from django.test import Client

from dashboard.catalogue.sync import sync_models
from dashboard.cleanup import requests
from dashboard.cleanup.models import DeletionJob, DeletionRequest, JobItem, SelectedModel
from dashboard.models import AuditEntry, UpstreamAccess
from dashboard.roles import OWNER, SUPPORT, ensure_roles
from dashboard.upstreams import get_upstream
from tests.markup import find, find_all, text

from .test_selection import BASES, LIST, MATCHING, catalogue, other, tone

HTMX = {"HX-Request": "true"}
NEW = "/u/default/requests/new/"
Status = DeletionRequest.Status


@pytest.fixture
def listed(real_api: respx.MockRouter, db: None) -> list[dict[str, Any]]:
    items = catalogue(tones=60, others=10)
    sync_models("default", items)
    real_api.route().respond(500)  # nothing here calls the API
    return items


def _signed_in(username: str, role: str) -> Client:
    ensure_roles()
    user = User.objects.create_user(username=username, password="pw-" + username)
    user.groups.set([Group.objects.get(name=role)])
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def second_owner(db: None) -> Client:
    return _signed_in("otto", OWNER)


def ask(browser: Client, reason: str = "Old experiments", **data: str) -> Any:
    return browser.post(NEW, {"reason": reason, **data})


def only_request() -> DeletionRequest:
    [found] = DeletionRequest.objects.all()
    return found


def entries(action: str, **fields: Any) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, **fields).order_by("id"))


def pending_badge(browser: Client) -> str:
    badges = find_all(browser.get("/requests/mine/").content, "span", class_="count-badge")
    return badges[0].text if badges else ""


# --- Asking ----------------------------------------------------------------------------------


def test_a_request_for_one_model_needs_a_reason(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    response = ask(support, "   ", model=tone(1))

    assert response.status_code == 422
    assert "Say why: the owners decide on your reason." in text(response.content)
    assert DeletionRequest.objects.count() == 0


def test_a_reason_longer_than_the_bound_is_refused(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    response = ask(support, "x" * (requests.REASON_MAX + 1), model=tone(1))

    assert response.status_code == 422
    assert DeletionRequest.objects.count() == 0


def test_a_request_for_one_model_is_recorded_audited_and_goes_back(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    back = f"/u/default/models/{tone(1)}/"

    response = ask(support, "Superseded by T002", model=tone(1), return_to=back)

    assert response.status_code == 302
    assert response["Location"] == back
    made = only_request()
    assert (made.model_ids, made.reason, made.status) == (
        [tone(1)],
        "Superseded by T002",
        "pending",
    )
    assert made.requested_by_name == "sam"
    [entry] = entries("request.created")
    assert entry.outcome == AuditEntry.Outcome.RECORDED
    assert (entry.deletion_request_id, entry.model_id) == (made.pk, tone(1))
    assert entry.message == "Superseded by T002"


def test_the_detail_page_of_a_deletable_model_offers_a_request_to_others_only(
    support: Client, owner: Client, listed: list[dict[str, Any]]
) -> None:
    page = support.get(f"/u/default/models/{tone(1)}/?next=/u/default/models/%3Fq%3Dtone")
    [link] = [a for a in find_all(page.content, "a") if a.text == "Request deletion…"]
    query = parse_qs(urlsplit(link.attrs["href"]).query)
    assert query["model"] == [tone(1)]
    assert query["return_to"] == [
        f"/u/default/models/{tone(1)}/?next=/u/default/models/%3Fq%3Dtone"
    ]

    base = support.get("/u/default/models/gpt-4o/")
    assert "Request deletion…" not in text(base.content)
    assert "Request deletion…" not in text(owner.get(f"/u/default/models/{tone(1)}/").content)


def test_the_request_dialog_comes_as_a_fragment_for_htmx(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    response = support.get(NEW, {"model": tone(1), "return_to": LIST}, headers=HTMX)

    assert response.status_code == 200
    assert find(response.content, "h2", id="dialog-title").text == "Request deletion"
    assert not find_all(response.content, "header")
    assert find(response.content, "textarea", name="reason")


def test_a_request_from_the_selection_takes_it_clears_it_and_returns_to_the_list(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    back = LIST + "?base=o4-mini-2025-04-16&sort=id&page=2&per_page=25"
    support.post(MATCHING, {"return_to": back})

    response = ask(support, "Left over from the o4 trial", return_to=back)

    assert response["Location"] == back
    made = only_request()
    assert sorted(made.model_ids) == sorted(other(n) for n in range(10))
    assert made.return_to == back
    assert SelectedModel.objects.count() == 0
    page = text(support.get(back).content)
    assert f"Request #{made.pk} sent to the owners of" in page
    assert "Your selection was cleared." in page


def test_with_htmx_a_made_request_redirects_the_whole_page(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    response = support.post(
        NEW, {"reason": "Old", "model": tone(2), "return_to": LIST + "?q=tone"}, headers=HTMX
    )

    assert response.status_code == 204
    assert response["HX-Redirect"] == LIST + "?q=tone"


def test_base_models_and_unknown_ids_cannot_be_requested(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    for model_id in (BASES[0], "ft:nothing:here:x:y"):
        response = ask(support, model=model_id)
        assert response.status_code == 422
        assert "None of these models can be deleted" in text(response.content)
    assert DeletionRequest.objects.count() == 0


def test_owners_delete_themselves_and_are_not_offered_requests(
    owner: Client, listed: list[dict[str, Any]]
) -> None:
    assert owner.get(NEW, {"model": tone(1)}).status_code == 403
    assert ask(owner, model=tone(1)).status_code == 403
    assert DeletionRequest.objects.count() == 0


def test_a_foreign_return_to_on_a_request_is_ignored(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    response = ask(support, model=tone(1), return_to="https://evil.example/u/default/models/")

    assert response["Location"] == LIST
    assert only_request().return_to == LIST


# --- Owners see, count, approve, reject ------------------------------------------------------


def test_owners_see_the_pending_count_in_the_header_and_the_request_on_their_page(
    support: Client, team_admin: Client, owner: Client, listed: list[dict[str, Any]]
) -> None:
    ask(support, "One", model=tone(1))
    ask(team_admin, "Two", model=tone(3))

    assert pending_badge(owner) == "2 pending"
    page = owner.get("/requests/")
    rows = find_all(page.content, "tr")[1:]
    assert len(rows) == 2
    body = text(page.content)
    assert "sam" in body and "adam" in body and tone(1) in body and "One" in body
    assert [
        a.text
        for a in find_all(support.get("/requests/mine/").content, "a")
        if a.text == "Requests"
    ] == []
    assert support.get("/requests/").status_code == 403
    assert team_admin.get("/requests/").status_code == 403


def test_an_owner_approves_a_job_is_created_with_the_ids_and_the_trail_is_audited(
    support: Client, owner: Client, listed: list[dict[str, Any]]
) -> None:
    back = LIST + "?q=o4-mini&sort=id"
    support.post(MATCHING, {"return_to": back})
    ask(support, "Trial over", return_to=back)
    made = only_request()

    response = owner.post(f"/u/default/requests/{made.pk}/approve/")

    job = DeletionJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/u/default/jobs/{job.pk}/"
    assert sorted(JobItem.objects.filter(job=job).values_list("model_id", flat=True)) == sorted(
        made.model_ids
    )
    assert job.status in DeletionJob.OPEN
    assert job.return_to == back
    made.refresh_from_db()
    assert (made.status, made.decided_by_name, made.job_id) == ("approved", "olivia", job.pk)
    trail = AuditEntry.objects.filter(deletion_request_id=made.pk).order_by("id")
    assert [(e.action, e.outcome, e.job_id) for e in trail] == [
        ("request.created", "recorded", None),
        ("job.created", "recorded", job.pk),
        ("request.approved", "recorded", job.pk),
    ]
    assert pending_badge(owner) == ""
    job_page = owner.get(response["Location"])
    assert job_page.status_code == 200


def test_rejecting_needs_a_comment_and_the_requester_sees_it(
    support: Client, owner: Client, listed: list[dict[str, Any]]
) -> None:
    ask(support, "Old", model=tone(5))
    made = only_request()

    empty = owner.post(f"/u/default/requests/{made.pk}/reject/", {"comment": "  "})
    assert empty.status_code == 422
    assert "A rejection needs a comment for the requester." in text(empty.content)
    made.refresh_from_db()
    assert made.status == Status.PENDING

    done = owner.post(f"/u/default/requests/{made.pk}/reject/", {"comment": "Still used by Ops"})

    assert done.status_code == 302
    made.refresh_from_db()
    assert (made.status, made.comment, made.decided_by_name) == (
        "rejected",
        "Still used by Ops",
        "olivia",
    )
    [entry] = entries("request.rejected")
    assert (entry.outcome, entry.message, entry.deletion_request_id) == (
        "recorded",
        "Still used by Ops",
        made.pk,
    )
    mine = text(support.get("/requests/mine/").content)
    assert "Rejected" in mine and "Still used by Ops" in mine and "olivia" in mine
    assert DeletionJob.objects.count() == 0


def test_support_and_admin_cannot_approve_or_reject_and_no_job_is_made(
    support: Client, team_admin: Client, listed: list[dict[str, Any]]
) -> None:
    ask(support, "Old", model=tone(5))
    made = only_request()

    for browser in (support, team_admin):
        assert browser.post(f"/u/default/requests/{made.pk}/approve/").status_code == 403
        reject = browser.post(f"/u/default/requests/{made.pk}/reject/", {"comment": "no"})
        assert reject.status_code == 403
    made.refresh_from_db()
    assert made.status == Status.PENDING
    assert DeletionJob.objects.count() == 0
    denied = entries("request.approved", outcome="denied")
    denied += entries("request.rejected", outcome="denied")
    assert sorted(e.username for e in denied) == ["adam", "adam", "sam", "sam"]


def test_a_requester_who_is_an_owner_cannot_approve_their_own_request(
    support: Client, owner: Client, listed: list[dict[str, Any]]
) -> None:
    sam = User.objects.get(username="sam")
    UpstreamAccess.objects.create(user=sam, upstream="default", role=UpstreamAccess.Role.SUPPORT)
    ask(support, "Old", model=tone(7))
    made = only_request()
    UpstreamAccess.objects.filter(user=sam).update(role=UpstreamAccess.Role.OWNER)  # promoted

    page = support.get(f"/u/default/requests/{made.pk}/")
    refused = support.post(f"/u/default/requests/{made.pk}/approve/")
    refused_reject = support.post(f"/u/default/requests/{made.pk}/reject/", {"comment": "x"})

    assert not find_all(page.content, "form", action=f"/u/default/requests/{made.pk}/approve/")
    assert refused.status_code == 403
    assert "You made this request: another owner must decide it." in text(refused.content)
    assert refused_reject.status_code == 403
    assert DeletionJob.objects.count() == 0
    made.refresh_from_db()
    assert made.status == Status.PENDING
    [denied] = entries("request.approved", outcome="denied")
    assert (denied.username, denied.deletion_request_id) == ("sam", made.pk)
    assert pending_badge(support) == ""  # their own request is not counted for them
    assert owner.post(f"/u/default/requests/{made.pk}/approve/").status_code == 302


def test_a_second_approval_is_told_it_was_decided_and_makes_no_second_job(
    support: Client, owner: Client, second_owner: Client, listed: list[dict[str, Any]]
) -> None:
    ask(support, "Old", model=tone(9))
    made = only_request()
    owner.post(f"/u/default/requests/{made.pk}/approve/")

    again = second_owner.post(f"/u/default/requests/{made.pk}/approve/", follow=True)

    assert DeletionJob.objects.count() == 1
    assert f"Request #{made.pk} was already approved by olivia. Nothing was changed." in text(
        again.content
    )
    assert len(entries("request.approved")) == 1


def test_two_owners_who_both_loaded_the_pending_request_make_one_job(
    listed: list[dict[str, Any]],
) -> None:
    upstream = get_upstream("default")
    ensure_roles()
    asker = User.objects.create_user("rita")
    asker.groups.set([Group.objects.get(name=SUPPORT)])
    first, second = (User.objects.create_user(name) for name in ("o1", "o2"))
    for user in (first, second):
        user.groups.set([Group.objects.get(name=OWNER)])
    made = requests.create(asker, upstream, [tone(11), tone(13)], "Old")
    seen_by_first = DeletionRequest.objects.get(pk=made.pk)
    seen_by_second = DeletionRequest.objects.get(pk=made.pk)  # pending, as loaded

    job = requests.approve(first, upstream, seen_by_first)
    with pytest.raises(requests.AlreadyDecided, match="already approved by o1"):
        requests.approve(second, upstream, seen_by_second)

    assert list(DeletionJob.objects.values_list("pk", flat=True)) == [job.pk]
    assert DeletionRequest.objects.get(pk=made.pk).job_id == job.pk
    assert DeletionRequest.objects.get(pk=made.pk).decided_by_name == "o1"


# --- Withdraw, My requests, seeing a request --------------------------------------------------


def test_the_requester_withdraws_a_pending_request(
    support: Client, owner: Client, listed: list[dict[str, Any]]
) -> None:
    ask(support, "Old", model=tone(5))
    made = only_request()
    assert owner.post(f"/u/default/requests/{made.pk}/withdraw/").status_code == 403

    response = support.post(f"/u/default/requests/{made.pk}/withdraw/")

    assert response.status_code == 302
    made.refresh_from_db()
    assert made.status == Status.WITHDRAWN
    assert [e.outcome for e in entries("request.withdrawn")] == ["denied", "recorded"]
    late = owner.post(f"/u/default/requests/{made.pk}/approve/", follow=True)
    assert "was already withdrawn" in text(late.content)
    assert DeletionJob.objects.count() == 0


def test_my_requests_shows_status_decision_comment_and_the_job(
    support: Client, owner: Client, listed: list[dict[str, Any]]
) -> None:
    ask(support, "First", model=tone(1))
    ask(support, "Second", model=tone(3))
    first, second = DeletionRequest.objects.order_by("id")
    owner.post(f"/u/default/requests/{first.pk}/approve/")
    owner.post(f"/u/default/requests/{second.pk}/reject/", {"comment": "Keep it"})
    job = DeletionJob.objects.get()

    page = support.get("/requests/mine/")

    body = text(page.content)
    assert "Approved" in body and "Rejected" in body and "Keep it" in body
    assert [a.attrs["href"] for a in find_all(page.content, "a") if a.text == f"Job #{job.pk}"] == [
        f"/u/default/jobs/{job.pk}/"
    ]
    assert "My requests" in text(owner.get("/requests/").content)
    assert owner.get("/requests/mine/").status_code == 200


def test_a_request_is_seen_by_its_requester_and_the_owners_only(
    support: Client, team_admin: Client, owner: Client, listed: list[dict[str, Any]]
) -> None:
    ask(support, "Old", model=tone(5))
    made = only_request()
    url = f"/u/default/requests/{made.pk}/"

    assert support.get(url).status_code == 200
    shown = owner.get(url)
    assert shown.status_code == 200
    assert find(shown.content, "form", action=f"/u/default/requests/{made.pk}/approve/")
    assert not find_all(support.get(url).content, "form", action=f"{url}approve/")
    assert team_admin.get(url).status_code == 403
    assert owner.get(f"/u/default/requests/{made.pk + 1}/").status_code == 404


def test_the_owners_page_filters_pending_and_decided(
    support: Client, owner: Client, listed: list[dict[str, Any]]
) -> None:
    ask(support, "First", model=tone(1))
    ask(support, "Second", model=tone(3))
    first = DeletionRequest.objects.order_by("id").first()
    assert first is not None
    owner.post(f"/u/default/requests/{first.pk}/reject/", {"comment": "No"})

    def shown(status: str) -> int:
        return len(find_all(owner.get("/requests/", {"status": status}).content, "tr")) - 1

    assert (shown("pending"), shown("decided"), shown("all")) == (1, 1, 2)
