-- Kept in step with SQLite's schema; PostgreSQL rows keep their payload as text (TOAST already
-- compresses large values), so this column stays empty here.
ALTER TABLE deliveries ADD COLUMN payload_lz4 BYTEA;
