"""Item pipelines, in the order a page item passes them:

normalize.py  canonical URLs for the page and every edge
dedupe.py     one edge per (source URL, target URL); one record per page
store.py      batched, off-reactor writes into a store (stores/)
"""
