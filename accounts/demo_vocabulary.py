"""The vocabulary of the demo world: names, roles, time zones and weighted distributions.

Weighted pools are tuples with each value repeated by its weight: picking
``pool[int(rng.random() * len(pool))]`` is much cheaper than ``random.choices`` over a million rows.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from typing import Any

from .models import LifecycleStage, Region, Vertical


def pool(weights: Sequence[tuple[Any, int]]) -> tuple[Any, ...]:
    return tuple(itertools.chain.from_iterable([value] * weight for value, weight in weights))


VERTICALS = pool(
    [
        (Vertical.RETAIL, 18),
        (Vertical.ECOMMERCE, 20),
        (Vertical.TRAVEL, 10),
        (Vertical.GAMING, 9),
        (Vertical.AGENCIES, 12),
        (Vertical.B2B_SOFTWARE, 16),
        (Vertical.MEDIA, 6),
        (Vertical.FINANCE, 6),
        (Vertical.OTHER, 3),
    ]
)
REGIONS = pool([(Region.AMERICAS, 45), (Region.EMEA, 30), (Region.APAC, 18), (Region.MENA, 7)])
LIFECYCLES = pool(
    [
        (LifecycleStage.ONBOARDING, 10),
        (LifecycleStage.ADOPTING, 25),
        (LifecycleStage.MATURE, 45),
        (LifecycleStage.RENEWING, 12),
        (LifecycleStage.CHURNED, 8),
    ]
)
TRENDS = pool([("growing", 30), ("flat", 35), ("declining", 20), ("spiky", 15)])
CONTACT_COUNTS = pool([(1, 10), (2, 20), (3, 25), (4, 20), (5, 15), (6, 10)])

# fmt: off
NAME_FIRST = (
    "Northwind", "Blue Harbor", "Summit", "Redwood", "Silverline", "Brightpath", "Ironbridge",
    "Lakeside", "Evergreen", "Copperfield", "Starling", "Maple", "Granite", "Harbor Light",
    "Sunrise", "Atlas", "Orchid", "Falcon", "Crescent", "Juniper", "Pioneer", "Cobalt",
    "Meridian", "Aurora", "Willow", "Keystone", "Horizon", "Beacon", "Sterling", "Cedar",
    "Nimbus", "Vertex", "Harvest", "Polaris", "Tidewater", "Oakridge", "Zenith", "Riverstone",
    "Skyward", "Lumen", "Quarry", "Driftwood", "Saffron", "Indigo", "Marble", "Trident",
)
NAME_SECOND = {
    Vertical.RETAIL: ("Stores", "Outfitters", "Market", "Home Goods", "Fashion", "Grocers"),
    Vertical.ECOMMERCE: ("Shop", "Commerce", "Direct", "Online", "Marketplace", "Cart"),
    Vertical.TRAVEL: ("Travel", "Journeys", "Airways", "Hotels", "Holidays", "Voyages"),
    Vertical.GAMING: ("Games", "Studios", "Interactive", "Play", "Arcade", "Entertainment"),
    Vertical.AGENCIES: ("Agency", "Creative", "Digital", "Partners", "Collective", "Media Lab"),
    Vertical.B2B_SOFTWARE: ("Software", "Systems", "Cloud", "Analytics", "Labs", "Technologies"),
    Vertical.MEDIA: ("Media", "Publishing", "Press", "News", "Broadcast", "Stories"),
    Vertical.FINANCE: ("Capital", "Payments", "Finance", "Bank", "Insurance", "Lending"),
    Vertical.OTHER: ("Group", "Holdings", "Industries", "Services", "Logistics", "Energy"),
}
PERSON_FIRST = (
    "Anna", "Ben", "Carla", "Daniel", "Elif", "Farah", "George", "Hana", "Igor", "Julia", "Karim",
    "Laura", "Mateo", "Noor", "Olivia", "Pedro", "Qiu", "Rosa", "Samir", "Tara", "Umar", "Vera",
    "Wei", "Ximena", "Yara", "Zoe", "Arjun", "Chloe", "Diego", "Fatima", "Hugo", "Ines", "Jonas",
)
PERSON_LAST = (
    "Adams", "Bauer", "Chen", "Dubois", "Ebert", "Fernandes", "Garcia", "Hoffmann", "Ito", "Jensen",
    "Khan", "Lopez", "Moreau", "Nakamura", "Olsen", "Park", "Quinn", "Rahman", "Silva", "Turner",
    "Usman", "Varga", "Weber", "Young", "Zhang", "Novak", "Patel", "Costa", "Ali", "Murphy",
)
CHAMPION_ROLES = ("Head of Operations", "Product Owner", "Director of E-commerce", "Marketing Lead")
EXECUTIVE_ROLES = ("VP Customer Experience", "Chief Digital Officer", "CTO", "COO", "CMO")
OTHER_ROLES = ("Analyst", "Developer", "Project Manager", "Support Lead", "Finance Manager", "Designer")
OTHER_TIME_ZONES = {
    Region.AMERICAS: ("America/Chicago", "America/Los_Angeles", "America/Sao_Paulo", "America/Toronto"),
    Region.EMEA: ("Europe/London", "Europe/Paris", "Europe/Madrid", "Africa/Johannesburg"),
    Region.APAC: ("Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata", "Asia/Shanghai"),
    Region.MENA: ("Asia/Riyadh", "Africa/Cairo", "Asia/Qatar", "Africa/Casablanca"),
}
# fmt: on

# ACV is log-normal: median about 8,000, so ~70% of accounts sit below 15,000 and ~4% at or
# above 70,000 (Enterprise under the default policy); the tail is capped at 1,000,000.
ACV_MU = math.log(8_000)
ACV_SIGMA = 1.25
ACV_MIN, ACV_MAX = 1_200.0, 1_000_000.0


def pick(rng: random.Random, pool: Sequence[Any]) -> Any:
    return pool[int(rng.random() * len(pool))]
