"""linkwatch benchmarks: `python -m bench [--quick] [--only NAME,...] [--repeat N]`.

One module per benchmark (crawl, extract, distributed, seenset, ingest,
memory), each returning a report section; `__main__` runs them and appends
the sections to BENCHMARKS.md. Every figure is a ratio to a baseline run side
by side in the same invocation, repeated, reported as median [min-max].

Shared pieces: corpus.py (real HTML pages from Debian's documentation
packages, served as *.test sites), measure.py (CPU, RSS and wall time of
child processes), report.py (the Markdown), baseline_spider.py with
baseline_settings.py and scrapy_redis_settings.py (the plain-Scrapy and
scrapy-redis baselines), statsdump.py (an extension that saves a crawl's
stats).
"""
