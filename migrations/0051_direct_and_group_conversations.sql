-- Direct messages between two people and groups of up to 50, beside channels and threads: their
-- members are listed, and only they read and write.
ALTER TABLE conversations DROP CONSTRAINT conversations_kind_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_kind_check CHECK (kind IN ('channel', 'thread', 'direct', 'group'));
ALTER TABLE conversations ADD COLUMN title text CHECK (length(title) BETWEEN 1 AND 100);
-- The two people of a direct conversation, the smaller id first: one conversation per pair.
ALTER TABLE conversations ADD COLUMN direct_key text CONSTRAINT conversations_direct_key UNIQUE;
ALTER TABLE conversations DROP CONSTRAINT conversations_shape;
ALTER TABLE conversations ADD CONSTRAINT conversations_shape CHECK (
    (kind = 'channel' AND project_id IS NOT NULL AND name IS NOT NULL AND subject_kind IS NULL AND subject_id IS NULL
        AND title IS NULL AND direct_key IS NULL)
    OR (kind = 'thread' AND project_id IS NULL AND name IS NULL AND subject_kind IS NOT NULL AND subject_id IS NOT NULL
        AND title IS NULL AND direct_key IS NULL)
    OR (kind = 'direct' AND project_id IS NULL AND name IS NULL AND subject_kind IS NULL AND subject_id IS NULL
        AND title IS NULL AND direct_key IS NOT NULL)
    OR (kind = 'group' AND project_id IS NULL AND name IS NULL AND subject_kind IS NULL AND subject_id IS NULL
        AND title IS NOT NULL AND direct_key IS NULL));

CREATE TABLE conversation_members (
    conversation_id uuid        NOT NULL REFERENCES conversations (id),
    user_id         uuid        NOT NULL REFERENCES users (id),
    added_by        uuid        NOT NULL REFERENCES users (id),
    added_at        timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id, conversation_id);
