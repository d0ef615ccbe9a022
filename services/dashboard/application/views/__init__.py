"""The dashboard's read side: what the page, the API and the reports show, one module per job.

- `programmes`: the programmes known and their decrees; `scope`: which area a summary covers;
- `workers`: worker counts per area × sector and by reason; `money`: bills, premiums, claims;
- `tables`: query rows shaped into the summary's tables (no SQL); `summary`: all of it together;
- `maps`: the boundaries as SVG paths.
"""
