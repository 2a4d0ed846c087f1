-- Reactions to messages (one per user per emoji; at most 50 distinct emoji per message, held by the
-- service under the message's lock) and the users a message mentions (for mention counts).

CREATE TABLE message_reactions (
    message_id uuid        NOT NULL REFERENCES messages (id),
    emoji      text        NOT NULL CHECK (length(emoji) BETWEEN 1 AND 64),
    user_id    uuid        NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

CREATE TABLE message_mentions (
    message_id      uuid        NOT NULL REFERENCES messages (id),
    user_id         uuid        NOT NULL REFERENCES users (id),
    conversation_id uuid        NOT NULL REFERENCES conversations (id),
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX message_mentions_user_idx ON message_mentions (user_id, conversation_id, created_at);

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('conversation.mention', 'You were mentioned',
     '{{subject}}: {{author}} mentioned you: {{excerpt}}', true, now());
