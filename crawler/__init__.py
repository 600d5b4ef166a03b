"""linkwatch: who links to the domains you watch (crawler, extraction, queries)."""

# The one place the version is written: pyproject.toml reads it, and so does the
# user agent (settings/base.py, through the installed package's metadata).
__version__ = "0.4.0"
