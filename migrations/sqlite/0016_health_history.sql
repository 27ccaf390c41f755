-- The history health reports and alert charts read. signal_samples: upkeep's own signals,
-- one row per signal per minute from the alert sampler (queue lag, failure ratios, budget
-- left, deliveries), plus counts as they happen (deliveries recovered, breakers opened,
-- alerts opened); kept 15 days. repo_events: what upkeep did for a repository, once per
-- fact (the key), from webhooks and its own verdicts (PRs opened, merged, closed; benchmark
-- regressions caught); kept 400 days.
CREATE TABLE signal_samples (
    name  TEXT NOT NULL,
    t     BIGINT NOT NULL,
    value REAL NOT NULL
);
CREATE INDEX signal_samples_by_name ON signal_samples (name, t);
CREATE INDEX signal_samples_by_t ON signal_samples (t);
CREATE TABLE repo_events (
    key           TEXT PRIMARY KEY,
    repository_id BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    at            BIGINT NOT NULL,
    value         REAL
);
CREATE INDEX repo_events_by_repository ON repo_events (repository_id, at);
CREATE INDEX repo_events_by_at ON repo_events (at);
