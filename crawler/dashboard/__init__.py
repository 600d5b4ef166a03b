"""`linkwatch serve`: a local web dashboard over the store, read-only.

The layers point one way: pages.py (HTML) and api.py (JSON) → views.py (the
numbers of each view, from crawler/intelligence and the store's queries) →
the store (pipelines/stores). The store never imports the dashboard.

- app.py: the Starlette application, its routes and middleware;
- security.py: the token, the allowed hosts, read-only methods, headers;
- params.py: every query parameter, validated (a bad one is a 400);
- availability.py: the filters and sorts that wait for fields of the store;
- pool.py: read-only stores shared by the request threads;
- views.py, charts.py, cache.py: the data of each view;
- export.py: the backlinks table as streamed CSV or JSON lines.
"""
