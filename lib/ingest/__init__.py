"""From an export to stored rows: reading files, values, mappings, validation, reshaping and the ingest pipeline."""
