from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "shared_apps.wallet"
    label = "wallet"
    verbose_name = "Porte-monnaie et grand livre"
