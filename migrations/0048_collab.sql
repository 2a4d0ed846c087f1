-- Collaboration: an organization's projects with their members, and conversations (a project's
-- channels, and the thread attached to a business object) with their messages.

CREATE TABLE projects (
    id              uuid        PRIMARY KEY,
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    slug            text        NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64),
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description     text        NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
    team_id         uuid        REFERENCES teams (id),
    client_id       uuid        REFERENCES users (id),
    status          text        NOT NULL CHECK (status IN ('planning', 'active', 'on_hold', 'completed', 'cancelled')),
    priority        text        NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    kind            text        NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    budget_minor    bigint      CHECK (budget_minor >= 0),
    budget_currency text        CHECK (budget_currency ~ '^[A-Z]{3}$'),
    estimated_hours integer     CHECK (estimated_hours >= 0),
    actual_hours    integer     NOT NULL DEFAULT 0 CHECK (actual_hours >= 0),
    start_date      date,
    due_date        date,
    completed_on    date,
    tags            text[]      NOT NULL DEFAULT '{}',
    created_by      uuid        NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT projects_slug_key UNIQUE (organization_id, slug),
    CONSTRAINT projects_budget_currency CHECK ((budget_minor IS NULL) = (budget_currency IS NULL)),
    CONSTRAINT projects_due_after_start CHECK (due_date IS NULL OR start_date IS NULL OR due_date >= start_date)
);
CREATE INDEX projects_org_idx ON projects (organization_id, status, created_at);

-- Who works on a project, and as what. A project's manager is the member with the `manager` role.
CREATE TABLE project_members (
    project_id uuid        NOT NULL REFERENCES projects (id),
    user_id    uuid        NOT NULL REFERENCES users (id),
    role       text        NOT NULL CHECK (role IN ('manager', 'editor', 'commenter', 'viewer', 'client')),
    added_by   uuid        NOT NULL REFERENCES users (id),
    added_at   timestamptz NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user_idx ON project_members (user_id, project_id);

-- A conversation: a project's channel (`project_id`, `name`), or the thread attached to one business
-- object (`subject_kind`, `subject_id`: a booking, an event, a project, ...), whose owning domain says
-- who may read and write it.
CREATE TABLE conversations (
    id              uuid        PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('channel', 'thread')),
    project_id      uuid        REFERENCES projects (id),
    name            text        CHECK (name ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(name) <= 64),
    subject_kind    text,
    subject_id      uuid,
    created_by      uuid        REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    last_message_at timestamptz,
    message_count   integer     NOT NULL DEFAULT 0,
    CONSTRAINT conversations_channel_name_key UNIQUE (project_id, name),
    CONSTRAINT conversations_subject_key UNIQUE (subject_kind, subject_id),
    CONSTRAINT conversations_shape CHECK (
        (kind = 'channel' AND project_id IS NOT NULL AND name IS NOT NULL AND subject_kind IS NULL AND subject_id IS NULL)
        OR (kind = 'thread' AND project_id IS NULL AND name IS NULL AND subject_kind IS NOT NULL AND subject_id IS NOT NULL))
);

CREATE TABLE messages (
    id              uuid        PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES conversations (id),
    author_id       uuid        NOT NULL REFERENCES users (id),
    body            text        NOT NULL CHECK (length(body) BETWEEN 1 AND 16000),
    reply_to        uuid        REFERENCES messages (id),
    reply_count     integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    edited_at       timestamptz,
    deleted_at      timestamptz,
    deleted_by      uuid        REFERENCES users (id),
    CONSTRAINT messages_deleted_by CHECK ((deleted_at IS NULL) = (deleted_by IS NULL))
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, created_at, id);
CREATE INDEX messages_replies_idx ON messages (reply_to, created_at, id) WHERE reply_to IS NOT NULL;

-- Each edit's previous text: the history an edit keeps.
CREATE TABLE message_edits (
    id            uuid        PRIMARY KEY,
    message_id    uuid        NOT NULL REFERENCES messages (id),
    edited_by     uuid        NOT NULL REFERENCES users (id),
    edited_at     timestamptz NOT NULL,
    previous_body text        NOT NULL
);
CREATE INDEX message_edits_message_idx ON message_edits (message_id, edited_at, id);

-- How far each reader has read a conversation.
CREATE TABLE conversation_reads (
    conversation_id uuid        NOT NULL REFERENCES conversations (id),
    user_id         uuid        NOT NULL REFERENCES users (id),
    read_until      timestamptz NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('conversation.message', 'A new message',
     '{{subject}}: {{author}} wrote: {{excerpt}}', false, now()),
    ('conversation.reply', 'A reply to your message',
     '{{subject}}: {{author}} replied: {{excerpt}}', false, now()),
    ('project.member_added', 'You were added to a project',
     '{{by}} added you to "{{project}}" as {{role}}.', true, now());
