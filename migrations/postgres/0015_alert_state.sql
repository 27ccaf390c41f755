-- What the self-tuning alerts learnt and which are open (alerts::detector, as JSON), so a
-- restart keeps both; written by the one replica that samples (a lease).
CREATE TABLE alert_state (
    name       TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
