"""Card payments and the provider's notifications (webhooks)."""
