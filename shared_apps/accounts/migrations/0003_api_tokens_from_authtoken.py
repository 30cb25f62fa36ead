"""Existing DRF tokens (one per user, stored in clear) become per-device tokens, stored hashed,
so apps already signed in keep working; then the clear copies are dropped."""

from django.db import migrations

FORWARD = """
DO $$
BEGIN
  IF to_regclass('public.authtoken_token') IS NOT NULL THEN
    INSERT INTO accounts_apitoken
        (user_id, device, key_hash, created_at, last_used_at, expires_at, revoked_at)
    SELECT user_id, 'Appareil connecté avant les jetons par appareil',
           encode(sha256(convert_to(key, 'UTF8')), 'hex'), created, NULL,
           now() + interval '90 days', NULL
    FROM public.authtoken_token
    ON CONFLICT (key_hash) DO NOTHING;
    DROP TABLE public.authtoken_token;
  END IF;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_api_tokens")]

    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
