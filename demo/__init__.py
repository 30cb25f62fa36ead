"""Demo data for `manage.py demo`: built through the real use cases, never imported by them."""
