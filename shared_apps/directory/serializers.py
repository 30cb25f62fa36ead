from rest_framework import serializers

from shared_apps.directory.selectors import service_label


class ListedServiceSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="service_id", help_text="L’id du service dans sa commune.")
    kind = serializers.CharField()
    name = serializers.CharField()
    label = serializers.SerializerMethodField(help_text="Par exemple « Garderie de Baneins ».")
    description = serializers.CharField()

    def get_label(self, listing) -> str:
        return service_label(listing.name, listing.commune.name)


class CommuneWithServicesSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    services = ListedServiceSerializer(source="listed_services", many=True)
