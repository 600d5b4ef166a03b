"""Scrapy extensions: cross-cutting work connected to signals (progress, ...)."""
