"""How the jobs table words a periodic copy job's interval."""

from __future__ import annotations

import pytest

from console.gui.models.jobs import interval_text


@pytest.mark.parametrize(("seconds", "text"), [(86400, "day"), (2 * 86400, "2 days"), (4 * 3600, "4 hours"),
                                               (3600, "hour"), (90 * 60, "90 minutes"), (60, "minute")])
def test_intervals_read_as_an_admin_says_them(seconds: int, text: str) -> None:
    assert interval_text(seconds) == text
