"""Tasks by hand: complete (recording a linked module's delivery), snooze with a reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from engagement.models import ModuleDelivery, Task
from tests.engagement.factories import TaskFactory, tiered_account

pytestmark = pytest.mark.django_db


def test_completing_a_task_linked_to_a_module_records_the_delivery_once(
    api_client, alice, frozen_now
) -> None:
    account = tiered_account("MM1", csm=alice)
    api_client.force_authenticate(alice)
    created = api_client.post(
        "/api/v1/tasks/",
        {
            "account": account.pk,
            "title": "QBR",
            "due_on": "2026-11-25",
            "module": "qbr",
            "checklist": ["Deck", "Agenda"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    complete = reverse("api:tasks-complete", args=[created.json()["id"]])
    assert api_client.post(complete).json()["status"] == "done"
    assert api_client.post(complete).status_code == 200
    delivery = ModuleDelivery.objects.get()
    assert (delivery.module.code, delivery.source, delivery.source_id) == (
        "qbr",
        "task",
        created.json()["id"],
    )


def test_snoozing_needs_a_reason_and_a_later_day(api_client, alice, bob, frozen_now) -> None:
    task = TaskFactory(account=tiered_account("MM1", csm=alice), assignee=alice)
    url = reverse("api:tasks-snooze", args=[task.pk])
    api_client.force_authenticate(alice)
    response = api_client.post(url, {"until": "2026-11-22", "reason": ""}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"until", "reason"}
    response = api_client.post(url, {"until": "2026-12-01", "reason": "Customer on holiday"}, format="json")
    assert response.json()["snoozed_until"] == "2026-12-01"
    api_client.force_authenticate(bob)
    assert api_client.post(url, {"until": "2026-12-02", "reason": "x"}, format="json").status_code == 404


def test_a_csm_sees_their_open_tasks(api_client, alice, bob, frozen_now) -> None:
    mine = TaskFactory(account=tiered_account("MM1", csm=alice), assignee=alice, due_on=dt.date(2026, 11, 30))
    TaskFactory(account=tiered_account("MM1", csm=bob), assignee=bob)
    TaskFactory(account=mine.account, assignee=alice, status="done")
    api_client.force_authenticate(alice)
    assert [row["id"] for row in api_client.get("/api/v1/tasks/").json()["results"]] == [mine.pk]
    assert Task.objects.count() == 3


def test_an_owning_ae_sees_the_csms_tasks_but_does_not_close_them(api_client, alice, tom, frozen_now) -> None:
    task = TaskFactory(account=tiered_account("MM1", csm=alice, ae=tom), assignee=alice)
    api_client.force_authenticate(tom)

    assert api_client.post(reverse("api:tasks-complete", args=[task.pk])).status_code == 403
    snooze = {"until": "2026-12-01", "reason": "Customer on holiday"}
    snoozed = api_client.post(reverse("api:tasks-snooze", args=[task.pk]), snooze, format="json")
    assert snoozed.status_code == 403
    task.refresh_from_db()
    assert (task.status, task.snoozed_until) == ("open", None)


def test_leadership_may_complete_any_task(api_client, alice, bob, lena, frozen_now) -> None:
    task = TaskFactory(account=tiered_account("MM1", csm=alice), assignee=bob)
    api_client.force_authenticate(lena)
    assert api_client.post(reverse("api:tasks-complete", args=[task.pk])).json()["status"] == "done"
