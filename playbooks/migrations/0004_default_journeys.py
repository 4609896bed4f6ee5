"""Default journeys: MM3 digital onboarding and MM2 adoption, editable by CS Leadership afterwards."""

from django.db import migrations

SIGNATURE = """
{{ csm.first_name|default:"The Customer Success team" }}{% if csm.email %}
Reply to this email or write to {{ csm.email }}: a person reads every answer.{% endif %}

You get these emails because {{ account.name }} is onboarding with us.
Unsubscribe in one click: {{ links.unsubscribe }}"""

# code, name, tier, description, steps
# step: (name, delay days, delay from, subject, body, skip condition, module code)
JOURNEYS = [
    (
        "digital-onboarding",
        "Digital onboarding (Mid-Market Tier 3)",
        "MM3",
        "Five emails over the first 30 days that take a new customer from sign-up to a team that "
        "uses the product every week, without a call.",
        [
            (
                "Welcome and the first 30 minutes",
                0,
                "enrolment",
                "Welcome, {{ contact.first_name|default:contact.name }}: your first 30 minutes",
                """Hi {{ contact.first_name|default:"there" }},

welcome on board! Teams at {{ account.name }} get value fastest when the first half hour goes to
three things:

  1. Connect your main data source (Settings > Integrations). Everything else builds on it.
  2. Create one workspace for a real project, not a test one.
  3. Invite one colleague who will use it with you this week.

The getting-started guide walks through each step with screenshots:
{{ links.help_center }}

In the next weeks you will get a few short emails like this one, each with one next step.
""" + SIGNATURE,
                "",
                "onboarding_emails",
            ),
            (
                "Activate your users",
                3,
                "previous",
                "{{ account.name }}: bring your team in",
                """Hi {{ contact.first_name|default:"there" }},

a tool used by one person stays a side project. The teams that succeed invite everyone who
touches the work in their first week.

Checklist:
  [ ] Invite your team (Settings > Members > Invite). Paste a list of addresses at once.
  [ ] Give each person a role, so they see what matters to them.
  [ ] Share one workspace with all of them and ask for one comment each.

Inviting people and managing seats: {{ links.help_center }}
""" + SIGNATURE,
                "seat_utilisation >= 0.6",
                "onboarding_emails",
            ),
            (
                "Learn at your own pace",
                7,
                "previous",
                "Three short courses for {{ account.name }}",
                """Hi {{ contact.first_name|default:"there" }},

you have the basics running. The academy has three starter courses of about 20 minutes each:

  - Setting up workflows that match how your team already works
  - Reports your managers will actually read
  - Automations that save an hour a week

Start here: {{ links.training }}
Each course ends with a checklist you can hand to a colleague.
""" + SIGNATURE,
                "",
                "academy",
            ),
            (
                "Best practices webinar",
                7,
                "previous",
                "Live: how teams like {{ account.name }} get more out of it",
                """Hi {{ contact.first_name|default:"there" }},

every other week a product specialist shows, live and in 45 minutes, what the most successful
customers of your size set up in their first two months. Bring your questions: the last
15 minutes are open Q&A.

Dates and registration: {{ links.webinars }}
Can't make it? Every session is recorded and linked on the same page.
""" + SIGNATURE,
                "",
                "onboarding_emails",
            ),
            (
                "30-day check-in",
                30,
                "enrolment",
                "30 days in: how is it going at {{ account.name }}?",
                """Hi {{ contact.first_name|default:"there" }},

it has been a month. A quick self-check of where you are:

  [ ] Your main data source is connected and up to date
  [ ] More than half of your invited colleagues logged in this week
  [ ] You have one report or dashboard your team looks at regularly

If any box is empty, reply to this email with what is in the way and we will point you to the
right material. Other customers answer each other's questions in the community:
{{ links.community }}
""" + SIGNATURE,
                "",
                "onboarding_emails",
            ),
        ],
    ),
    (
        "mm2-adoption",
        "Adoption (Mid-Market Tier 2)",
        "MM2",
        "Four emails over six weeks that deepen adoption between the CSM's checkpoint calls.",
        [
            (
                "Your adoption plan",
                0,
                "enrolment",
                "{{ account.name }}: your adoption plan for the next six weeks",
                """Hi {{ contact.first_name|default:"there" }},

{% if csm.name %}I am {{ csm.name }}, your Customer Success Manager. {% endif %}Over the next six weeks
we will send a few short emails, each with one step that teams like yours found worth it:

  week 1  bring the whole team in
  week 2  join the live best-practices webinar
  week 4  switch on the features most {{ tier.name|default:"mid-market" }} customers adopt next

Between them we will look at your usage and get in touch when something looks stuck.
""" + SIGNATURE,
                "",
                "",
            ),
            (
                "Invite your colleagues",
                7,
                "previous",
                "Is everyone at {{ account.name }} on board?",
                """Hi {{ contact.first_name|default:"there" }},

accounts that use most of their seats get far more value from the same contract, and the
people who never logged in are often the ones who would benefit most.

  [ ] Check who has not logged in yet (Settings > Members, sort by last active)
  [ ] Resend their invitation with one sentence on why it matters to them
  [ ] Remove seats of people who left, and invite their successors

How-to: {{ links.help_center }}
""" + SIGNATURE,
                "seat_utilisation >= 0.6",
                "",
            ),
            (
                "Webinar series",
                7,
                "previous",
                "This month's best-practice webinars",
                """Hi {{ contact.first_name|default:"there" }},

this month's live sessions cover reporting for managers, automations, and a customer story
from a team of your size. 45 minutes each, recorded if you cannot make it.

Register: {{ links.webinars }}
""" + SIGNATURE,
                "",
                "webinars",
            ),
            (
                "Features to adopt next",
                14,
                "previous",
                "Three features {{ account.name }} is not using yet",
                """Hi {{ contact.first_name|default:"there" }},

the features customers adopt after the basics, in the order that pays off fastest:

  1. Automations: repeat work done for you, set up in minutes.
  2. Scheduled reports: the numbers in your managers' inbox every Monday.
  3. Integrations: your other tools updated without copy and paste.

Short guides for each: {{ links.training }}
""" + SIGNATURE,
                "feature_adoption >= 0.7",
                "academy",
            ),
        ],
    ),
]


def create_journeys(apps, schema_editor):
    Journey = apps.get_model("playbooks", "Journey")
    JourneyStep = apps.get_model("playbooks", "JourneyStep")
    for code, name, tier_code, description, steps in JOURNEYS:
        journey, created = Journey.objects.get_or_create(
            code=code, defaults={"name": name, "tier_code": tier_code, "description": description}
        )
        if not created:
            continue
        for position, (step_name, days, delay_from, subject, body, skip, module) in enumerate(steps, 1):
            JourneyStep.objects.create(
                journey=journey,
                position=position,
                name=step_name,
                delay_days=days,
                delay_from=delay_from,
                subject_template=subject,
                body_text_template=body.strip() + "\n",
                skip_condition=skip,
                module_code=module,
            )


class Migration(migrations.Migration):
    dependencies = [("playbooks", "0003_journeys")]
    operations = [migrations.RunPython(create_journeys, migrations.RunPython.noop)]
