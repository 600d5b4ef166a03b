"""Helpers for the tests only: crawl runners and small hand-made webs."""
