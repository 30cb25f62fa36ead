from rest_framework import serializers

from shared_apps.accounts.models import User
from shared_apps.families.selectors import family_id_of
from shared_apps.jobs.selectors import wants_booking_reminders


class ProfileSerializer(serializers.ModelSerializer):
    email_verified = serializers.BooleanField(read_only=True)
    family_id = serializers.SerializerMethodField()
    booking_reminders = serializers.SerializerMethodField(
        help_text="Rappels par e-mail avant la date limite de réservation."
    )

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "address",
            "email_verified",
            "family_id",
            "booking_reminders",
        ]
        read_only_fields = ["id", "email"]

    def get_family_id(self, user: User) -> int | None:
        return family_id_of(user)

    def get_booking_reminders(self, user: User) -> bool:
        return wants_booking_reminders(user)


class RegisterSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    first_name = serializers.CharField(max_length=150, allow_blank=True)
    last_name = serializers.CharField(max_length=150, allow_blank=True)
    phone = serializers.CharField(max_length=30, allow_blank=True)
    address = serializers.CharField(max_length=500, allow_blank=True)


class ProfileUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    last_name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    phone = serializers.CharField(max_length=30, allow_blank=True, required=False)
    address = serializers.CharField(max_length=500, allow_blank=True, required=False)
    booking_reminders = serializers.BooleanField(required=False)


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    device = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="Le nom de l’appareil (« iPhone de Léa ») ; par défaut, son User-Agent.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="À envoyer en `Authorization: Bearer <token>`.")
    token_id = serializers.IntegerField(required=False, help_text="Pour révoquer cet appareil.")
    expires_at = serializers.DateTimeField(
        required=False, help_text="Repoussé à chaque utilisation (expiration glissante)."
    )


class ApiTokenSerializer(serializers.Serializer):
    """One signed-in device, as its owner sees it (never its key)."""

    id = serializers.IntegerField()
    device = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField()
    current = serializers.BooleanField(help_text="L’appareil qui fait cette demande.")


class LinkTokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)


class EmailSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class ChangePasswordSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
