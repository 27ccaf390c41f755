-- Webhook payloads stored LZ4-compressed: a push payload of 7.3 KiB takes about a quarter of that,
-- and SQLite writes every byte twice (WAL, then checkpoint). New rows keep `payload` empty and
-- the bytes in `payload_lz4` (LZ4 block with its size prepended); older rows keep their text.
ALTER TABLE deliveries ADD COLUMN payload_lz4 BLOB;
