"""How counts read to an admin: the noun agrees with the number."""

from __future__ import annotations

import pytest

from console.core.units import plural


@pytest.mark.parametrize(("n", "expected"), [
    (0, "0 backups"),
    (1, "1 backup"),
    (2, "2 backups"),
    (1000, "1,000 backups"),
    (1234567, "1,234,567 backups"),
])
def test_regular_plural(n: int, expected: str) -> None:
    assert plural(n, "backup") == expected


def test_multi_word_noun_pluralises_the_last_word() -> None:
    assert plural(1, "restore point") == "1 restore point"
    assert plural(3, "restore point") == "3 restore points"


@pytest.mark.parametrize(("n", "expected"), [
    (0, "0 repositories"),
    (1, "1 repository"),
    (2, "2 repositories"),
    (1001, "1,001 repositories"),
])
def test_irregular_plural(n: int, expected: str) -> None:
    assert plural(n, "repository", "repositories") == expected


def test_irregular_plural_is_not_used_for_one() -> None:
    assert plural(1, "copy", "copies") == "1 copy"
    assert plural(5, "copy", "copies") == "5 copies"
