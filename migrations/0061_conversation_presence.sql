-- Who is in a conversation now: the people with its live stream open, on any node, counted per
-- connection and refreshed while it stays open, so that a node stopped without saying goodbye leaves
-- nobody shown as here for more than 90 seconds.

CREATE TABLE conversation_presence (
    conversation_id uuid        NOT NULL REFERENCES conversations (id),
    user_id         uuid        NOT NULL REFERENCES users (id),
    connections     integer     NOT NULL CHECK (connections >= 0),
    since           timestamptz NOT NULL,
    seen_at         timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
