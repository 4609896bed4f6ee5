"""Every user-supplied string is escaped: an account, contact and CSM named like markup stay text.

Names come from the CRM sync (anyone with CRM access can type them). They must never reach a
page or an HTML email as markup: the raw ``<script>`` never appears, the escaped text does.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.security.html_checks import inline_script_problems

HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;"


@pytest.fixture
def hostile(alice, tom, lena):
    from csplatform import roles
    from tests.engagement.factories import CommitmentFactory, FlagFactory, TaskFactory, TouchpointFactory

    csm = UserFactory(username="mallory", first_name=HOSTILE, last_name="", role=roles.CSM)
    account = AccountFactory(
        name=HOSTILE,
        domain="evil.example",
        csm=alice,
        ae=tom,
        acv=Decimal("62000"),
        tier_code="MM1",
        tier_name="Mid-Market Tier 1",
        tier_rank=2,
        tier_explanation=HOSTILE,
        vertical="retail",
    )
    other = AccountFactory(name="Second " + HOSTILE, csm=csm, ae=tom, acv=Decimal("9000"))
    contact = ContactFactory(account=account, name=HOSTILE, role=HOSTILE)
    TouchpointFactory(account=account, notes=HOSTILE, logged_by=alice)
    TaskFactory(account=account, title=HOSTILE, assignee=alice)
    FlagFactory(account=account, explanation=HOSTILE)
    CommitmentFactory(
        account=account, description=HOSTILE, note=HOSTILE, deal_reference=HOSTILE, logged_by=tom
    )
    return {"account": account, "other": other, "contact": contact, "csm": csm}


def _pages(hostile) -> dict[str, list[str]]:
    account = hostile["account"].pk
    account_pages = [
        f"/accounts/{account}/",
        f"/accounts/{account}/tier/",
        f"/accounts/{account}/coverage/",
        f"/accounts/{account}/tasks/",
        f"/accounts/{account}/commitments/",
        f"/accounts/{account}/timeline/",
        f"/worklist/rows/{account}/",
    ]
    return {
        "alice": ["/", "/accounts/", "/accounts/?q=script", "/worklist/", *account_pages],
        "tom": ["/", "/handoffs/", f"/handoffs/{account}/"],
        "lena": [
            "/",
            "/accounts/",
            "/approvals/",
            "/overview/commitments/",
            "/overview/capacity/",
            "/overview/economics/",
            "/overview/quadrants/high_revenue_low_cost/accounts/",
            *account_pages,
        ],
    }


@pytest.mark.parametrize("who", ["alice", "tom", "lena"])
def test_pages_escape_names_notes_and_explanations(client, hostile, who, alice, tom, lena):
    client.force_login({"alice": alice, "tom": tom, "lena": lena}[who])
    shown_escaped = 0
    for page in _pages(hostile)[who]:
        response = client.get(page, follow=True)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, page
        assert inline_script_problems(html) == [], page
        shown_escaped += ESCAPED in html
    # The hostile strings were on screen (escaped), so the check above did look at them.
    assert shown_escaped >= 2


def test_html_emails_escape_account_and_contact_names(hostile):
    from engagement.journeys.services import step_render
    from tests.journeys.factories import JourneyFactory, JourneyStepFactory

    step = JourneyStepFactory(
        journey=JourneyFactory(code="escape-check"),
        subject_template="Welcome {{ contact.first_name }} at {{ account.name }}",
        body_text_template="Hi {{ contact.name }} of {{ account.name }}. {{ links.unsubscribe }}",
        body_html_template="<p>Hi {{ contact.name }} of {{ account.name }}, from {{ csm.name }}</p>",
    )
    rendered = step_render(step=step, contact=hostile["contact"], account=hostile["account"])
    html = rendered.body_html
    assert "<script>" not in html and "<img src=x" not in html
    assert ESCAPED in html
    # Subjects and plain text are not HTML: they carry the text as typed, on one line.
    assert "\n" not in rendered.subject


def test_a_sent_journey_email_is_escaped_too(hostile):
    from engagement.journeys.services import step_render
    from tests.journeys.factories import JourneyFactory, JourneyStepFactory

    step = JourneyStepFactory(
        journey=JourneyFactory(code="escape-send"),
        body_html_template="<p>{{ account.name }}</p>",
    )
    rendered = step_render(step=step, contact=hostile["contact"], account=hostile["account"])
    message = mail.EmailMultiAlternatives(rendered.subject, rendered.body_text, to=["x@customer.example"])
    message.attach_alternative(rendered.body_html, "text/html")
    message.send()
    html_part = mail.outbox[-1].alternatives[0][0]
    assert "<script>" not in html_part and ESCAPED in html_part
