-- Schema version 7: column coverage. Each upload records the canonical columns its file
-- supplied, so a KPI is computed only over rows whose upload had every input it needs.
-- Uploads stored before this version have NULL here; their coverage is read off the data.
ALTER TABLE uploads ADD COLUMN supplied_columns VARCHAR[];
-- Rows a mapping leaves out on purpose (skip_rows): counted, so rows read always add up.
ALTER TABLE uploads ADD COLUMN skipped BIGINT DEFAULT 0;
-- Exports with flags instead of times: answered (a reply was given) and resolved.
ALTER TABLE tickets ADD COLUMN answered BOOLEAN;
ALTER TABLE tickets ADD COLUMN resolved BOOLEAN;
-- Mappings people build or import, versioned like schemes: who, when and why. The shipped
-- presets stay read-only in config/mappings/.
CREATE TABLE mapping_versions (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    body VARCHAR NOT NULL,            -- the mapping as YAML
    saved_at TIMESTAMP NOT NULL,
    saved_by VARCHAR NOT NULL,
    why VARCHAR,
    PRIMARY KEY (name, version)
);
