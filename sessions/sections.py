"""The four stages this app owns, registered as note sections (see registry.py)."""
