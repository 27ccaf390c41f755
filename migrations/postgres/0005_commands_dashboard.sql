-- Commands already run, by comment and the command's key in it (its normalised text and
-- occurrence): editing a comment never runs a command twice.
CREATE TABLE command_runs (
    repository_id BIGINT NOT NULL,
    comment_id    BIGINT NOT NULL,
    command_key   TEXT NOT NULL,
    ran_at        BIGINT NOT NULL,
    PRIMARY KEY (comment_id, command_key)
);

-- Ignores added or removed by command, applied at once and until the PR that writes them into
-- .github/upkeep.toml merges. `versions` is a requirement ('' for the whole dependency).
CREATE TABLE pending_ignores (
    repository_id BIGINT NOT NULL,
    dependency    TEXT NOT NULL,
    versions      TEXT NOT NULL,
    op            TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (repository_id, dependency, versions)
);

-- A person closed the dashboard issue: no dashboard until it is reopened.
ALTER TABLE repositories ADD COLUMN dashboard_off BIGINT NOT NULL DEFAULT 0;
