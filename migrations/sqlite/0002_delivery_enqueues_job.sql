-- A delivery names the job that processes it; a trigger enqueues that job in the same statement
-- that stores the delivery, so a batch of deliveries is one statement (one round trip to
-- SQLite's worker thread) instead of four. max_attempts 8 is jobs::DEFAULT_MAX_ATTEMPTS
-- (a test checks they agree).
ALTER TABLE deliveries ADD COLUMN job_kind TEXT;

CREATE TRIGGER deliveries_enqueue AFTER INSERT ON deliveries WHEN NEW.job_kind IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO jobs (kind, dedupe_key, payload, state, attempts, max_attempts, run_at,
                                repository_id, created_at, updated_at)
    VALUES (NEW.job_kind, NEW.job_kind || ':' || NEW.delivery_id,
            json_object('delivery_id', NEW.delivery_id), 'queued', 0, 8, NEW.received_at,
            NEW.repository_id, NEW.received_at, NEW.received_at);
END;
