-- A result read from `--output-format bencher` lines has no samples, only an estimate
-- (`mean_ns`) and its `+/-` spread: kept here so such results can be a baseline too; -1 for
-- results with samples (a sentinel rather than NULL, which sqlx's Any driver cannot bind as a
-- float on PostgreSQL).
ALTER TABLE bench_results ADD COLUMN spread_ns DOUBLE PRECISION NOT NULL DEFAULT -1;
