-- Benchmark results read from upkeep-criterion artifacts: per repository, branch, commit,
-- runner class and benchmark, with the per-iteration samples (JSON) the verdicts need. Only the
-- default branch's own pushes are kept (never a fork's): they are the baseline and its history.
CREATE TABLE bench_results (
    repository_id BIGINT NOT NULL,
    branch        TEXT NOT NULL,
    commit_sha    TEXT NOT NULL,
    runner_class  TEXT NOT NULL,
    full_id       TEXT NOT NULL,
    mean_ns       REAL NOT NULL,
    samples       TEXT NOT NULL,
    run_id        BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (repository_id, commit_sha, runner_class, full_id)
);
CREATE INDEX bench_results_history ON bench_results (repository_id, branch, runner_class, created_at);
