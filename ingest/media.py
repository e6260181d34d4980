"""The media types ingestion tells apart (by content: see ingest.detect)."""

PDF = "application/pdf"
HTML = "text/html"
MARKDOWN = "text/markdown"
PLAIN = "text/plain"
NDJSON = "application/x-ndjson"
