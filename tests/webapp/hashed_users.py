"""Users for the tests, with each password's hash made once per session.

Hashing is deliberately slow (about a second per user on a busy 2-core machine) and the fixtures make the
same users for hundreds of tests. The hash is still the production hasher's, so logging in through Daphne's
form checks it as it would any other."""
from __future__ import annotations

import functools


@functools.cache
def password_hash(password: str) -> str:
    from django.contrib.auth.hashers import make_password

    return make_password(password)


def create_user(username: str, password: str):
    """What ``User.objects.create_user(username, password=password)`` makes."""
    from django.contrib.auth.models import User

    return User.objects.create(username=User.normalize_username(username), password=password_hash(password))
