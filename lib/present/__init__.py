"""What pages and files show: per-page views, charts, exports, the report, the digest and mail."""
