"""The evening peak under locust: see benchmarks/README.md ("Load")."""
