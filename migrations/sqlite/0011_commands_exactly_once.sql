-- A command is done when its reply exists, not when it was claimed: a claim names the delivery
-- that made it (a retry of that delivery after a crash resumes it, any other delivery leaves it
-- alone) and `done_at` is set once the reply is posted. Claims made before this were done.
ALTER TABLE command_runs ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE command_runs ADD COLUMN done_at BIGINT;
UPDATE command_runs SET done_at = ran_at;

-- Commands acted on per person and repository in the current window, and whether that person
-- was told about the limit in it (one polite reply per window, then silence).
CREATE TABLE command_rate (
    repository_id BIGINT NOT NULL,
    login         TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    used          BIGINT NOT NULL,
    told          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (repository_id, login)
);

-- How many times a job timed out, panicked or lost its worker mid-attempt: at two it is
-- quarantined (state 'quarantined') instead of tried again.
ALTER TABLE jobs ADD COLUMN crashes BIGINT NOT NULL DEFAULT 0;
