-- Rule sets people edit in the app (alert rules and webhooks, training rules, recognition
-- rules), versioned like schemes, rubrics and mappings: the shipped file in config/ is the
-- default and stays read-only; each save is a new version with who, when and why.
CREATE TABLE rule_set_versions (
    name VARCHAR NOT NULL,            -- alerts, training or recognition
    version INTEGER NOT NULL,
    body VARCHAR NOT NULL,            -- the rule set as YAML
    saved_at TIMESTAMP NOT NULL,
    saved_by VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    PRIMARY KEY (name, version)
);
