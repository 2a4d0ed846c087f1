-- Full-text search over messages: each message's words (the `simple` configuration, as event search
-- uses: no language is assumed), kept with the row and indexed.
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX messages_search_idx ON messages USING gin (search);
CREATE INDEX messages_author_idx ON messages (author_id, created_at);
