-- Files attached to messages: uploaded into a conversation (direct conversations, groups, threads,
-- support tickets), or a project's file version attached in one of that project's channels (a channel's
-- attachments are its project's files, so that the organization's storage counts them). An upload waits
-- unattached until its uploader's message takes it.

CREATE TABLE message_attachments (
    id              uuid        PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES conversations (id),
    uploaded_by     uuid        NOT NULL REFERENCES users (id),
    message_id      uuid        REFERENCES messages (id),
    position        smallint    CHECK (position BETWEEN 0 AND 9),
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    media_type      text        NOT NULL,
    size            bigint      NOT NULL CHECK (size >= 0),
    sha256          text        NOT NULL REFERENCES stored_files (sha256),
    file_id         uuid,
    file_version    integer,
    scan            text        NOT NULL CHECK (scan IN ('pending', 'clean', 'infected')),
    scan_note       text        CHECK (length(scan_note) <= 200),
    scanned_at      timestamptz,
    created_at      timestamptz NOT NULL,
    FOREIGN KEY (file_id, file_version) REFERENCES project_file_versions (file_id, version),
    CONSTRAINT message_attachments_placed CHECK ((message_id IS NULL) = (position IS NULL)),
    CONSTRAINT message_attachments_position_key UNIQUE (message_id, position)
);
CREATE INDEX message_attachments_message_idx ON message_attachments (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX message_attachments_sha_idx ON message_attachments (sha256);
CREATE INDEX message_attachments_waiting_idx ON message_attachments (uploaded_by, created_at) WHERE message_id IS NULL;
