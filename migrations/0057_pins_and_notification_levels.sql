-- Pinned messages of a conversation, and each person's notification level for a conversation: `all`
-- (every message; following a channel), `mentions` (mentions and replies to them only), `none` (muted).

CREATE TABLE message_pins (
    message_id      uuid        PRIMARY KEY REFERENCES messages (id),
    conversation_id uuid        NOT NULL REFERENCES conversations (id),
    pinned_by       uuid        NOT NULL REFERENCES users (id),
    pinned_at       timestamptz NOT NULL
);
CREATE INDEX message_pins_conversation_idx ON message_pins (conversation_id, pinned_at DESC);

CREATE TABLE conversation_prefs (
    conversation_id uuid        NOT NULL REFERENCES conversations (id),
    user_id         uuid        NOT NULL REFERENCES users (id),
    level           text        NOT NULL CHECK (level IN ('all', 'mentions', 'none')),
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_prefs_following_idx ON conversation_prefs (conversation_id) WHERE level = 'all';
