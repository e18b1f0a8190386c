-- Schema version 7: column coverage. Each upload records the canonical columns its file
-- supplied, so a KPI is computed only over rows whose upload had every input it needs.
-- Uploads stored before this version have NULL here; their coverage is read off the data.
ALTER TABLE uploads ADD COLUMN supplied_columns VARCHAR[];
