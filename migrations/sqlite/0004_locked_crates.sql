-- The crates each repository's lockfiles hold, as of its last pass: when the advisory
-- database brings a new or changed advisory, only the repositories that lock that crate are
-- audited again.
CREATE TABLE locked_crates (
    repository_id BIGINT NOT NULL,
    name          TEXT NOT NULL,
    PRIMARY KEY (repository_id, name)
);
CREATE INDEX locked_crates_by_name ON locked_crates (name);
