-- A store can also be a folder on the server's own disk (under the configured drops directory): the
-- demo's store, a store that collects batches with its own sync tool, or a test rig. Its path must
-- stay inside that directory (no `..`), which the service checks.
ALTER TABLE stores DROP CONSTRAINT stores_protocol_check;
ALTER TABLE stores ADD CONSTRAINT stores_protocol_check CHECK (protocol IN ('sftp', 's3', 'directory'));
