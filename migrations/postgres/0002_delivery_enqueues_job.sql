-- A delivery names the job that processes it; the store enqueues that job in the same statement
-- (a data-modifying CTE) that stores the delivery.
ALTER TABLE deliveries ADD COLUMN job_kind TEXT;
