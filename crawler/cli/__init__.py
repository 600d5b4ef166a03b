"""The `linkwatch` command: ask the link graph who links to a watched domain.

    linkwatch backlinks mysite.com [--format table|json|csv]
    linkwatch refdomains mysite.com
    linkwatch anchors mysite.com

It reads the store a crawl wrote: the SQLite file in LINKWATCH_DB (or --db), or
MongoDB when MONGO_URI (or --mongo-uri) is set. Mistakes in its arguments are
one line on stderr and exit code 2; a missing or unreadable store is exit 1.

app.py builds the parser and maps errors to exit codes; commands/ holds one
module per command over common.py (errors, argument types, store and output
options).
"""

from crawler.cli.app import main

__all__ = ["main"]
