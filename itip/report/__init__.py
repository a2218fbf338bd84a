"""The key-figures report: one offline HTML page with a card and a chart per figure.

`itip.report.build` writes it (`write_report`, `headline_markdown`); the modules beside it
hold its parts: cards (what each card shows), charts and drawing (the PNGs), page (the
HTML), formatting and words. This package module imports nothing itself: the chart helper
(`python -m itip.report.drawing`) is a fresh interpreter that needs only matplotlib and the
cards, and would otherwise import the warehouse, pandas and Jinja before drawing a line.
"""
