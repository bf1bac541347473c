"""Background jobs: thin functions that take ids, open an app context and call app/ code."""
