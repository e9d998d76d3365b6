"""Accounts made through an invitation: usernames that cannot pass for someone else's, passwords
that pass Django's validators (settings.AUTH_PASSWORD_VALIDATORS), and the password change page.

A username is NFKC-normalised (Django's own rule: full-width letters and ligatures become plain
ones) and refused when its *skeleton* equals an existing user's: case folded, accents stripped,
and the Cyrillic and Greek letters that look like Latin ones mapped to them ("аlice" with a
Cyrillic а, "Alice", "alicé" and "ALICE" all pass for "alice").
"""
from __future__ import annotations

import unicodedata

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

# Letters of other scripts drawn like Latin ones (Unicode's confusables, the common part).
HOMOGLYPHS = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y",
    "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ɡ": "g", "ӏ": "l", "ү": "y",
    "ь": "b", "г": "r", "п": "n", "з": "3", "ч": "4",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "ω": "w", "μ": "u", "ς": "c", "σ": "o", "ϲ": "c", "ϳ": "j",
    # Latin look-alikes
    "ı": "i", "ȷ": "j", "ſ": "s", "ł": "l", "ø": "o", "đ": "d", "ħ": "h",
})


def normalize_username(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw or "").strip()


def skeleton(name: str) -> str:
    """What a name looks like: NFKC, case folded, accents stripped, look-alike letters made Latin."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    bare = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", bare.translate(HOMOGLYPHS))


def confusable_with(name: str) -> str | None:
    """An existing username that ``name`` could pass for (itself included), or None."""
    wanted = skeleton(name)
    for existing in get_user_model().objects.values_list("username", flat=True).iterator():
        if skeleton(existing) == wanted:
            return existing
    return None


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (its form runs the password validators), back to the dashboard after."""

    template_name = "registration/password_change_form.html"
    http_method_names = ["get", "post", "head", "options"]  # a FormView would take PUT as POST
    success_url = reverse_lazy("dashboard")

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)
