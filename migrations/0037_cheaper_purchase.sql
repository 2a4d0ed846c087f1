-- A purchase paid at once from the wallet issues its tickets without touching the event row: their
-- issue records join the event's ticket chain after it, in batches (by a job, or before any other
-- record of the event is appended), in the order the tickets were issued.
ALTER TABLE tickets ADD COLUMN issue_chained boolean NOT NULL DEFAULT true;
CREATE INDEX tickets_unchained_idx ON tickets (event_id, created_at, id) WHERE NOT issue_chained;
