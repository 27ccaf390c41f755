-- Named marks: a background task's progress that must survive restarts and be shared by every
-- replica, such as how far back GitHub's webhook delivery log has been swept for missed
-- deliveries (`delivery-sweep`, the newest attempt seen, ms since the epoch).
CREATE TABLE marks (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
