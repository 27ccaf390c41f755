-- Auto-revert's memory. `reverts`: every decision about a red default-branch commit or a culprit,
-- with its reason (shown on the dashboard; quotas count the `reverted` and `merged` rows of the
-- day; a culprit reverted once is never reverted again). `bisections`: one search per red
-- commit and workflow, the candidates oldest first and what CI said on each (JSON).
CREATE TABLE reverts (
    repository_id BIGINT NOT NULL,
    sha           TEXT NOT NULL,
    cause         TEXT NOT NULL,
    decision      TEXT NOT NULL,
    reason        TEXT NOT NULL,
    pr_number     BIGINT,
    revert_pr     BIGINT,
    issue_number  BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX reverts_by_repository ON reverts (repository_id, created_at);
CREATE INDEX reverts_by_sha ON reverts (repository_id, sha);
CREATE TABLE bisections (
    repository_id BIGINT NOT NULL,
    red_sha       TEXT NOT NULL,
    workflow_id   BIGINT NOT NULL,
    workflow_name TEXT NOT NULL,
    run_url       TEXT NOT NULL,
    green_sha     TEXT NOT NULL,
    candidates    TEXT NOT NULL,
    results       TEXT NOT NULL,
    testing       TEXT,
    runs          BIGINT NOT NULL,
    done_at       BIGINT,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (repository_id, red_sha, workflow_id)
);
