"""``python manage.py seed_demo [--accounts N] [--seed S] [--if-empty] [--replace]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import seeding, seeding_users


class Command(BaseCommand):
    help = (
        "Create deterministic demo data: the demo people (8 CSMs, 4 AEs, 2 CS leaders, 1 integration "
        f"user; password '{seeding_users.DEMO_PASSWORD}') and N customer accounts with log-normal ACV, "
        "verticals, regions, lifecycle stages and renewals over the next 12 months; 1-6 contacts and "
        f"{seeding.WEEKS_OF_USAGE} weekly usage snapshots per account, and two years of renewal "
        "outcomes that follow each account's usage trend and tickets. For large N, contacts, "
        "usage and outcomes are created for at most --detail-limit accounts (default "
        f"{seeding.DETAIL_LIMIT:,}), spread evenly; the other accounts have neither. The same --seed "
        "gives the same data. Uses COPY on PostgreSQL and batched inserts on SQLite."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--accounts",
            type=int,
            default=seeding.DEFAULT_ACCOUNTS,
            help=f"number of accounts (default {seeding.DEFAULT_ACCOUNTS:,}; 100000 or more for benchmarks)",
        )
        parser.add_argument("--seed", type=int, default=seeding.DEFAULT_SEED, help="random seed (default 42)")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when any account exists (used by make run)"
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help=(
                "delete earlier demo accounts (and what hangs off them) first; fine for thousands, "
                "slow for hundreds of thousands, where a new database is quicker"
            ),
        )
        parser.add_argument(
            "--detail-limit",
            type=int,
            default=seeding.DETAIL_LIMIT,
            help=f"at most this many accounts get contacts and usage (default {seeding.DETAIL_LIMIT:,})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["accounts"] < 0 or options["detail_limit"] < 0:
            raise CommandError("--accounts and --detail-limit must not be negative.")
        try:
            summary = seeding.seed_demo(
                accounts=options["accounts"],
                seed=options["seed"],
                if_empty=options["if_empty"],
                replace=options["replace"],
                detail_limit=options["detail_limit"],
            )
        except seeding.DemoDataExists as exc:
            raise CommandError(str(exc)) from exc
        if summary.skipped:
            self.stdout.write("Accounts already exist: demo data not seeded (--if-empty).")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded demo data (seed {summary.seed}) in {summary.seconds:.1f} s: "
                f"{summary.accounts:,} accounts, {summary.contacts:,} contacts, "
                f"{summary.usage_snapshots:,} usage snapshots, "
                f"{summary.renewal_outcomes:,} renewal outcomes over two years "
                f"(contacts and usage for {summary.detail_accounts:,} accounts), "
                f"{len(summary.users)} people."
            )
        )
        self.stdout.write(
            f"Demo logins use the password '{seeding_users.DEMO_PASSWORD}': see manage.py demo_logins."
        )
