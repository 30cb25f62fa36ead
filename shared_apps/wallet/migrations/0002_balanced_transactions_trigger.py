"""A transaction's postings must sum to zero: checked by the database at commit."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION wallet_check_transaction_balanced() RETURNS trigger AS $$
BEGIN
    IF (SELECT COALESCE(SUM(amount_cents), 0) FROM wallet_posting
        WHERE transaction_id = NEW.transaction_id) <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not sum to zero', NEW.transaction_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER wallet_posting_balanced
    AFTER INSERT OR UPDATE ON wallet_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION wallet_check_transaction_balanced();
"""

DROP = """
DROP TRIGGER IF EXISTS wallet_posting_balanced ON wallet_posting;
DROP FUNCTION IF EXISTS wallet_check_transaction_balanced();
"""


class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_initial")]
    operations = [migrations.RunSQL(CREATE, DROP)]
