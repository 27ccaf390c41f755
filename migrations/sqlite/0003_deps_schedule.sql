-- When each repository's dependency pass is next due, from its .github/upkeep.toml schedule
-- (NULL until its first pass: the daily slot runs it then).
ALTER TABLE repositories ADD COLUMN deps_next_at BIGINT;
