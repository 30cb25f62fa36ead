"""The back-office's staff API (`/c/<slug>/api/v1/staff/…`), one module per area, like the
pages in tenant_apps/backoffice/views/."""
