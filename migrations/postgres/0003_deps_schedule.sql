-- When each repository's dependency pass is next due, from its .github/upkeep.toml schedule
-- (NULL until its first pass: the daily slot runs it then).
ALTER TABLE repositories ADD COLUMN deps_next_at BIGINT;

-- Updates a person declined by closing upkeep's PR without merging: never proposed again in
-- the same form (same branch, same plan fingerprint).
CREATE TABLE declined_updates (
    repository_id BIGINT NOT NULL,
    branch        TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    declined_at   BIGINT NOT NULL,
    PRIMARY KEY (repository_id, branch, fingerprint)
);

-- Git blob texts by object id (immutable), so a pass after a restart, or on another replica,
-- reads unchanged manifests and lockfiles without asking GitHub.
CREATE TABLE blobs (
    sha     TEXT PRIMARY KEY,
    content TEXT NOT NULL,
    used_at BIGINT NOT NULL
);
