-- Retention prunes benchmark results by age across every repository (heal::prune): an index on
-- the age alone keeps that from scanning the whole table each hour.
CREATE INDEX bench_results_age ON bench_results (created_at);
