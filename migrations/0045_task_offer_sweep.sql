-- Offers still out, by when they expire: one sweep per second finds every offer due.
CREATE INDEX task_offers_due_idx ON task_offers (expires_at, task_id) WHERE status = 'offered';
