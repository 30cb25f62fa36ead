from rest_framework import serializers

from shared_apps.families.models import Child, Relation


class ChildSerializer(serializers.ModelSerializer):
    relation = serializers.ChoiceField(choices=Relation.choices, allow_null=True, read_only=True)
    relation_label = serializers.SerializerMethodField()

    class Meta:
        model = Child
        fields = [
            "id",
            "last_name",
            "first_name",
            "birth_date",
            "relation",
            "relation_label",
            "school_class",
            "notes",
        ]

    def get_relation_label(self, child) -> str:
        relation = getattr(child, "relation", None)
        return Relation(relation).label if relation in Relation.values else ""


class ChildInputSerializer(serializers.Serializer):
    """Shape only; the family rules (dates, duplicates…) are checked by the service."""

    last_name = serializers.CharField(max_length=300, allow_blank=True, required=False)
    first_name = serializers.CharField(max_length=300, allow_blank=True, required=False)
    birth_date = serializers.CharField(max_length=20, allow_blank=True, required=False)
    relation = serializers.CharField(max_length=20, allow_blank=True, required=False)
    school_class = serializers.CharField(max_length=100, allow_blank=True, required=False)
    notes = serializers.CharField(max_length=4000, allow_blank=True, required=False)


class InvitationInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    expires_at = serializers.DateTimeField()


class AcceptInvitationSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)


class FamilySerializer(serializers.Serializer):
    family_id = serializers.IntegerField()


class CalendarFeedSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="L’adresse secrète du flux iCalendar (https).")
    webcal_url = serializers.CharField(
        help_text="La même adresse en webcal://, qu’un agenda ouvre pour s’abonner."
    )
