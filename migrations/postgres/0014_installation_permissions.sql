-- The permissions each installation has accepted (a JSON object, name → level), from
-- installation events and the hourly GET /app/installations; NULL until known. Features that
-- need a permission an installation has not accepted are paused there (drift::accepted).
ALTER TABLE installations ADD COLUMN permissions TEXT;
