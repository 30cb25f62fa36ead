"""The platform account: one per person, valid in every commune."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True, is_operator=True)
        return self._create_user(email, password, **fields)

    def get_by_natural_key(self, username: str):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("adresse e-mail", max_length=254, unique=True)  # stored lower-case
    first_name = models.CharField("prénom", max_length=150, blank=True)
    last_name = models.CharField("nom", max_length=150, blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    address = models.TextField("adresse postale", max_length=500, blank=True)
    email_verified_at = models.DateTimeField("e-mail vérifié le", null=True, blank=True)
    is_active = models.BooleanField("actif", default=True)
    is_staff = models.BooleanField("accès à l’administration Django", default=False)
    is_operator = models.BooleanField(
        "opérateur de la plateforme",
        default=False,
        help_text="Ouvre les communes et suit la plateforme.",
    )
    date_joined = models.DateTimeField("inscrit le", default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "utilisateur"

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class ApiToken(models.Model):
    """One signed-in device of the API (the mobile app on a phone, a script…).

    Only the SHA-256 of the key is stored: the key itself is shown once, when the token is made
    (`shared_apps.accounts.api_tokens.issue`). A token expires `API_TOKEN_DAYS` after its last
    use (sliding) and is refused once revoked; each one can be revoked on its own.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    device = models.CharField("appareil", max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("créé le", default=timezone.now)
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)
    expires_at = models.DateTimeField("expire le")
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)

    class Meta:
        verbose_name = "jeton d’API"
        verbose_name_plural = "jetons d’API"
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_active")]

    def __str__(self) -> str:
        return f"{self.user} — {self.device or 'appareil'}"
