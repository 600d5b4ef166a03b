"""What the tests, the benchmarks and ``make demo`` share, in the spirit of Scrapy's own
scrapy/utils/test.py: helpers that are no part of a crawl, yet ship with the package.

- ``crawler.testing.fixtureweb``: the fixture web, many generated ``*.test`` sites served on
  127.0.0.1 by a proxy server, with the ground truth of every edge a correct crawl stores.
  ``python -m crawler.testing.fixtureweb serve|seeds|watch`` is its command line.
- ``crawler.testing.servers``: real local servers (redis-server, FerretDB) started and
  stopped for a test or a benchmark, or the user's own named by ``REDIS_URL`` / ``MONGO_URI``.

The tests' own helpers (crawl runners, hand-made webs) stay in ``tests/support``; the
benchmarks import from here and never from ``tests``. Being installed with the package,
``make demo`` works from an install as well as from a checkout.
"""
