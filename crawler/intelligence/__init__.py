"""Backlink intelligence: analyses of the link graph a crawl stored.

Pure logic, no I/O (the `linkwatch` commands in crawler/cli/commands/
read the store and hand these modules plain values):

    rank.py      PageRank and harmonic centrality of the domain graph, scaled 0-100
    toxic.py     rule-based toxicity of referring domains, each flag with its evidence
    gap.py       competitor gap: domains linking to competitors but not to you
    disavow.py   Google disavow files: format, limits, whitelist
    timeline.py  new/lost links and referring domains over time, in bins
    report.py    the HTML report with matplotlib charts (writes into a directory)
    export.py    streamed writers: CSV, JSON lines, Parquet, GraphML
    broken.py    broken backlink targets (link reclamation): which, how strong their links
    anchors.py   anchor classes (brand, exact, partial, url, generic, image, empty,
                 other), their shares, the over-optimisation warning
"""
