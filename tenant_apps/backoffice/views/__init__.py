"""The commune's back-office pages, one module per area of the agent's work.

counter: counter payments; each area (dashboard, headcounts, attendance, families, cash
journal, staff) has its own module, wired in tenant_apps/backoffice/urls.py."""
