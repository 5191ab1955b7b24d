"""Sign-in attempts per username and address, counted in the database.

The count used to live in the cache, which is per process by default (locmem): four gunicorn
workers let 13 attempts through instead of 4, and a right password succeeded on another worker
after "too many attempts". The database is the one store every web process shares whatever
``CACHE_URL`` says, and its row lock makes the count exact under concurrent attempts.
"""

from __future__ import annotations

from django.db import models


class SignInAttempts(models.Model):
    """Attempts in the current window for one username from one address.

    ``key`` is a SHA-256 of the casefolded username and the address, so the table holds no
    username or address in clear. A successful sign-in deletes the row; an expired window is
    started afresh on the next attempt, and old rows are swept when a new one is made.
    """

    key = models.CharField(max_length=64, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    window_ends = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "sign-in attempts"
        verbose_name_plural = "sign-in attempts"

    def __str__(self) -> str:
        return f"{self.attempts} attempts until {self.window_ends:%Y-%m-%d %H:%M}"
