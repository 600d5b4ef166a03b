"""`linkwatch seed | watch | status`: the commands of a shared crawl in Redis."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Commands of a shared crawl (REDIS_URL); added with the Redis frontier."""
