"""Services: the writes views and commands ask for, each in one transaction."""
