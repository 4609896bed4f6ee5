"""The research's service modules, the default policy's entitlements and a default playbook per tier."""

from django.db import migrations

# code, name, kind, default cadence (days, None = not recurring), expected CSM minutes, description
MODULES = [
    (
        "qbr",
        "Quarterly business review",
        "human",
        90,
        90,
        "Review of goals, usage and value delivered with the customer's stakeholders.",
    ),
    (
        "ebr",
        "Executive business review",
        "human",
        365,
        120,
        "Yearly strategic review with the customer's executive sponsor.",
    ),
    ("catch_up", "Catch-up call", "human", 30, 30, "Regular check-in with the main contact."),
    (
        "onboarding_kickoff",
        "Onboarding kickoff",
        "human",
        None,
        60,
        "Kickoff call that agrees the onboarding plan and success criteria.",
    ),
    (
        "onboarding_checkpoint",
        "Onboarding checkpoint call",
        "human",
        30,
        30,
        "Short call to check onboarding progress against the plan.",
    ),
    (
        "onboarding_emails",
        "Onboarding email sequence",
        "automated",
        None,
        0,
        "Templated emails with checklists that guide the customer through onboarding.",
    ),
    (
        "academy",
        "Self-learning academy content",
        "self_serve",
        None,
        0,
        "Courses and best-practice material customers use on their own.",
    ),
    ("webinars", "Webinar series", "automated", 30, 0, "One-to-many best-practice webinars."),
    (
        "dedicated_specialist",
        "Dedicated specialist",
        "human",
        7,
        60,
        "A named specialist who spends time with the account every week.",
    ),
    ("support_24_5", "24/5 support", "human", None, 0, "Priority support on weekdays around the clock."),
]

# tier code -> [(module code, cadence days or None)]
ENTITLEMENTS = {
    "ENT": [
        ("qbr", 90),
        ("catch_up", 14),
        ("dedicated_specialist", 7),
        ("ebr", 365),
        ("onboarding_kickoff", None),
        ("support_24_5", None),
        ("academy", None),
    ],
    "MM1": [("qbr", 90), ("catch_up", 30), ("onboarding_kickoff", None), ("academy", None)],
    "MM2": [("catch_up", 60), ("webinars", 30), ("onboarding_checkpoint", None), ("academy", None)],
    "MM3": [("onboarding_emails", None), ("academy", None)],
}

# code, name, trigger, tier code, renewal days, flag kind, description, steps
# step: (kind, title, due offset days, checklist, module code, estimated minutes, journey code)
PLAYBOOKS = [
    (
        "enterprise-kickoff",
        "Enterprise kickoff",
        "entered_tier",
        "ENT",
        None,
        "",
        "High-touch start for an account that enters Enterprise.",
        [
            (
                "task",
                "Executive alignment call",
                7,
                ["Identify the executive sponsor", "Agree business goals", "Schedule the first QBR"],
                "onboarding_kickoff",
                60,
                "",
            ),
            (
                "task",
                "Write the success plan",
                14,
                ["Goals and success criteria", "Stakeholder map", "Share the plan with the customer"],
                None,
                90,
                "",
            ),
        ],
    ),
    (
        "mm1-welcome",
        "Mid-Market Tier 1 welcome",
        "entered_tier",
        "MM1",
        None,
        "",
        "Hybrid start: a kickoff call and a first catch-up.",
        [
            (
                "task",
                "Kickoff call",
                7,
                ["Confirm goals", "Introduce the academy"],
                "onboarding_kickoff",
                45,
                "",
            ),
            ("task", "First catch-up call", 30, [], "catch_up", 30, ""),
        ],
    ),
    (
        "mm2-welcome",
        "Mid-Market Tier 2 welcome",
        "entered_tier",
        "MM2",
        None,
        "",
        "Standardised start: webinars and a checkpoint call.",
        [
            (
                "task",
                "Onboarding checkpoint call",
                14,
                ["Check setup", "Invite to the webinar series"],
                "onboarding_checkpoint",
                30,
                "",
            )
        ],
    ),
    (
        "mm3-digital-onboarding",
        "Digital onboarding",
        "entered_tier",
        "MM3",
        None,
        "",
        "Low-touch start: the onboarding email sequence and a light progress check.",
        [
            (
                "journey",
                "Enrol contacts in the onboarding email sequence",
                0,
                [],
                None,
                0,
                "digital-onboarding",
            ),
            (
                "task",
                "Check onboarding progress",
                30,
                ["Look at usage", "Reply to open questions"],
                None,
                10,
                "",
            ),
        ],
    ),
    (
        "enterprise-exit",
        "Enterprise handover",
        "left_tier",
        "ENT",
        None,
        "",
        "When an account leaves Enterprise, hand the relationship over deliberately.",
        [
            (
                "task",
                "Tell the customer how their service changes",
                7,
                ["Explain the new service model", "Introduce the new contacts"],
                None,
                30,
                "",
            )
        ],
    ),
    (
        "onboarding-start",
        "Onboarding started",
        "onboarding_started",
        "",
        None,
        "",
        "Every new customer gets a welcome within two days.",
        [
            (
                "task",
                "Welcome the customer",
                2,
                ["Send the welcome email", "Share the academy link"],
                None,
                15,
                "",
            )
        ],
    ),
    (
        "renewal-90",
        "Renewal preparation",
        "renewal_in_days",
        "",
        90,
        "",
        "Prepare every renewal three months ahead.",
        [
            (
                "task",
                "Prepare the renewal",
                14,
                ["Review value delivered", "Check open risks", "Align with the AE"],
                None,
                45,
                "",
            )
        ],
    ),
    (
        "usage-drop-outreach",
        "Usage drop outreach",
        "flag_raised",
        "",
        None,
        "usage_drop",
        "Usage fell sharply: find out why.",
        [
            (
                "task",
                "Reach out about the usage drop",
                3,
                ["Look at the usage trend", "Call the main contact"],
                "catch_up",
                30,
                "",
            )
        ],
    ),
    (
        "usage-spike-outreach",
        "Usage spike outreach",
        "flag_raised",
        "",
        None,
        "usage_spike",
        "Usage grew sharply: a chance to expand.",
        [("task", "Reach out about the growth", 5, ["Find out what drives it", "Tell the AE"], None, 20, "")],
    ),
    (
        "champion-left",
        "Champion left",
        "flag_raised",
        "",
        None,
        "champion_left",
        "The champion left: find a new one before the relationship fades.",
        [
            (
                "task",
                "Find a new champion",
                5,
                ["Ask the executive sponsor", "Update the stakeholder map"],
                None,
                30,
                "",
            )
        ],
    ),
    (
        "override-review",
        "Override follow-up",
        "override_applied",
        "",
        None,
        "",
        "An override changed the service: make the new service happen.",
        [
            (
                "task",
                "Plan the service for the overridden tier",
                7,
                ["Check the entitlements", "Schedule the next touchpoint"],
                None,
                20,
                "",
            )
        ],
    ),
    (
        "commitment-accepted",
        "Deliver an accepted commitment",
        "commitment_accepted",
        "",
        None,
        "",
        "Leadership accepted a sales commitment beyond the tier: schedule it.",
        [
            (
                "task",
                "Schedule the committed service",
                7,
                ["Read the AE's note", "Agree dates with the customer"],
                None,
                20,
                "",
            )
        ],
    ),
]


def create_catalogue(apps, schema_editor):
    ServiceModule = apps.get_model("playbooks", "ServiceModule")
    TierEntitlement = apps.get_model("playbooks", "TierEntitlement")
    Playbook = apps.get_model("playbooks", "Playbook")
    PlaybookStep = apps.get_model("playbooks", "PlaybookStep")
    Tier = apps.get_model("segmentation", "Tier")

    modules = {}
    for code, name, kind, cadence, minutes, description in MODULES:
        modules[code], _ = ServiceModule.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "default_cadence_days": cadence,
                "expected_minutes": minutes,
                "description": description,
            },
        )
    for tier in Tier.objects.filter(policy__version=1):
        for module_code, cadence in ENTITLEMENTS.get(tier.code, []):
            TierEntitlement.objects.get_or_create(
                tier=tier, module=modules[module_code], defaults={"cadence_days": cadence}
            )
    for code, name, trigger, tier_code, renewal_days, flag_kind, description, steps in PLAYBOOKS:
        playbook, created = Playbook.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "trigger": trigger,
                "tier_code": tier_code,
                "renewal_days": renewal_days,
                "flag_kind": flag_kind,
                "description": description,
            },
        )
        if not created:
            continue
        for position, (kind, title, offset, checklist, module_code, minutes, journey_code) in enumerate(
            steps, 1
        ):
            PlaybookStep.objects.create(
                playbook=playbook,
                position=position,
                kind=kind,
                title=title,
                due_offset_days=offset,
                checklist=checklist,
                module=modules.get(module_code) if module_code else None,
                estimated_minutes=minutes,
                journey_code=journey_code,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("playbooks", "0001_catalogue_playbooks"),
        ("segmentation", "0002_default_policy"),
    ]
    operations = [migrations.RunPython(create_catalogue, migrations.RunPython.noop)]
