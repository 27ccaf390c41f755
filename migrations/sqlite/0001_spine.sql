-- The spine: installations, repositories, webhook deliveries and the job queue.
-- Times are milliseconds since the Unix epoch (BIGINT) so both databases share one model.

CREATE TABLE installations (
    id            BIGINT PRIMARY KEY,
    account_login TEXT NOT NULL,
    account_type  TEXT NOT NULL DEFAULT '',
    suspended_at  BIGINT,
    deleted_at    BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE repositories (
    id                BIGINT PRIMARY KEY,
    installation_id   BIGINT NOT NULL,
    full_name         TEXT NOT NULL,
    private           BIGINT NOT NULL DEFAULT 0,
    default_branch    TEXT,
    removed_at        BIGINT,
    last_daily_key    TEXT,
    last_daily_run_at BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX repositories_installation ON repositories (installation_id);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id     TEXT NOT NULL UNIQUE,
    event           TEXT NOT NULL,
    action          TEXT,
    installation_id BIGINT,
    repository_id   BIGINT,
    repository      TEXT,
    received_at     BIGINT NOT NULL,
    payload         TEXT NOT NULL,
    processed_at    BIGINT,
    outcome         TEXT
);
CREATE INDEX deliveries_received ON deliveries (received_at);

CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL DEFAULT '{}',
    state           TEXT NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL DEFAULT 8,
    run_at          BIGINT NOT NULL,
    lease_until     BIGINT,
    lease_token     TEXT,
    last_error      TEXT,
    repository_id   BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
-- The claim's two look-ups: due jobs in run order, and leases that ran out (a dead worker's).
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state IN ('queued', 'failed');
CREATE INDEX jobs_leases ON jobs (lease_until) WHERE state = 'running';
