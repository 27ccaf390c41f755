-- Named leases: work that must not run twice at once on a repository (building and opening a
-- revert) is held by one replica at a time, not only by one task in one process. A lease runs
-- out by itself (`until_ms`), so a replica that dies holding one blocks the others that long.
CREATE TABLE leases (
    name     TEXT PRIMARY KEY,
    holder   TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
