"""Work on a database connection of its own, for tests of two transactions at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


class Session(threading.Thread):
    """``work`` on a connection of its own (Django's connections are per thread)."""

    def __init__(self, work: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.work = work
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.work()
        except BaseException as error:  # reported by finish() in the test's thread
            self.error = error
        finally:
            connection.close()

    def finish(self) -> None:
        """Wait for the work (at most a minute) and raise what it raised."""
        self.join(timeout=60)
        assert not self.is_alive()
        if self.error:
            raise self.error
