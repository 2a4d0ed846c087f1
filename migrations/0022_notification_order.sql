-- A user's notifications in the order they were committed. Time-ordered ids are made when a transaction
-- starts its insert, so two transactions may commit their notifications in the other order; a stream that
-- had already sent the newer one would skip the older one for ever. A per-user counter, incremented
-- under its row lock (held until commit), gives each notification a position no later commit can go
-- below: the stream resumes after a position, never after an id.
CREATE TABLE notification_counters (
    user_id uuid   PRIMARY KEY REFERENCES users (id),
    seq     bigint NOT NULL
);

ALTER TABLE notifications ADD COLUMN seq bigint;
UPDATE notifications n SET seq = s.position
FROM (SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY id) AS position FROM notifications) s
WHERE s.id = n.id;
INSERT INTO notification_counters (user_id, seq) SELECT user_id, max(seq) FROM notifications GROUP BY user_id;
ALTER TABLE notifications ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX notifications_user_seq_idx ON notifications (user_id, seq);
