-- Instruction counts and the other Callgrind metrics (gungraun summaries in the
-- upkeep-criterion artifact), one row per benchmark and metric kind (`instructions`,
-- `estimated_cycles`, `ram_hits`, `ll_hits`, `l1_hits`; wall time stays in bench_results with
-- its samples). Only the default branch's own pushes are kept, as for bench_results.
CREATE TABLE bench_counts (
    repository_id BIGINT NOT NULL,
    branch        TEXT NOT NULL,
    commit_sha    TEXT NOT NULL,
    runner_class  TEXT NOT NULL,
    full_id       TEXT NOT NULL,
    metric        TEXT NOT NULL,
    value         REAL NOT NULL,
    run_id        BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (repository_id, commit_sha, runner_class, full_id, metric)
);
CREATE INDEX bench_counts_history ON bench_counts (repository_id, branch, runner_class, created_at);
CREATE INDEX bench_counts_age ON bench_counts (created_at);
