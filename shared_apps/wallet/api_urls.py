from django.urls import path

from shared_apps.wallet import api

urlpatterns = [
    path("wallet", api.WalletView.as_view(), name="api-wallet"),
    path("wallet/transactions", api.TransactionsView.as_view(), name="api-wallet-transactions"),
]
