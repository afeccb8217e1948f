"""Fixtures of the page tests: cheap password hashing, people per role."""

import pytest
from argon2 import PasswordHasher

from shelter_match.services import users


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Hash with the smallest argon2id cost: 2,000 sign-ins must not take minutes.

    The production parameters are checked by their own test (test_sign_in.py).
    """
    monkeypatch.setattr(users, "PASSWORD_HASHER",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
