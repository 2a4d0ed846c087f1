-- The support desk: tickets opened by any user and answered by the platform's agents (staff and admins).
-- A ticket's conversation with its requester is a thread (`support_ticket`); its internal notes are a
-- second thread (`support_notes`) that only agents may read, so a note can never reach a customer by
-- any route that reads messages.

-- How fast each priority is answered and resolved (calendar minutes), kept by admins.
CREATE TABLE support_targets (
    priority                text    PRIMARY KEY CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    first_response_minutes  integer NOT NULL CHECK (first_response_minutes BETWEEN 1 AND 525600),
    resolution_minutes      integer NOT NULL CHECK (resolution_minutes BETWEEN 1 AND 525600),
    updated_at              timestamptz NOT NULL,
    CONSTRAINT support_targets_order CHECK (resolution_minutes >= first_response_minutes)
);
INSERT INTO support_targets (priority, first_response_minutes, resolution_minutes, updated_at) VALUES
    ('urgent', 60, 240, now()),
    ('high', 240, 1440, now()),
    ('medium', 480, 2880, now()),
    ('low', 1440, 7200, now());

CREATE SEQUENCE support_ticket_numbers START 1001;

CREATE TABLE support_tickets (
    id                      uuid        PRIMARY KEY,
    number                  bigint      NOT NULL UNIQUE DEFAULT nextval('support_ticket_numbers'),
    requester_id            uuid        NOT NULL REFERENCES users (id),
    subject                 text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    description             text        NOT NULL CHECK (length(description) BETWEEN 1 AND 16000),
    category                text        NOT NULL CHECK (category IN ('account', 'payments', 'payouts', 'tickets',
                                            'bookings', 'releases', 'royalties', 'tasks', 'projects', 'technical', 'other')),
    priority                text        NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    status                  text        NOT NULL CHECK (status IN ('open', 'pending_customer', 'pending_staff', 'resolved', 'closed')),
    assignee_id             uuid        REFERENCES users (id),
    conversation_id         uuid        NOT NULL REFERENCES conversations (id),
    notes_conversation_id   uuid        NOT NULL REFERENCES conversations (id),
    first_response_due      timestamptz NOT NULL,
    resolution_due          timestamptz NOT NULL,
    first_responded_at      timestamptz,
    first_response_breached_at timestamptz,
    resolution_breached_at  timestamptz,
    escalated_at            timestamptz,
    resolution              text        CHECK (length(resolution) <= 4000),
    resolved_at             timestamptz,
    closed_at               timestamptz,
    reopened_count          integer     NOT NULL DEFAULT 0,
    satisfaction            smallint    CHECK (satisfaction BETWEEN 1 AND 5),
    satisfaction_comment    text        CHECK (length(satisfaction_comment) <= 2000),
    rated_at                timestamptz,
    last_activity_at        timestamptz NOT NULL,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    CONSTRAINT support_tickets_resolved CHECK ((status IN ('resolved', 'closed')) = (resolved_at IS NOT NULL)),
    CONSTRAINT support_tickets_closed CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    CONSTRAINT support_tickets_rated CHECK ((satisfaction IS NULL) = (rated_at IS NULL))
);
CREATE INDEX support_tickets_requester_idx ON support_tickets (requester_id, created_at DESC);
CREATE INDEX support_tickets_queue_idx ON support_tickets (status, priority, created_at)
    WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX support_tickets_assignee_idx ON support_tickets (assignee_id, status) WHERE assignee_id IS NOT NULL;

-- Each status change, kept: who, from what, to what, and why.
CREATE TABLE support_ticket_events (
    id          uuid        PRIMARY KEY,
    ticket_id   uuid        NOT NULL REFERENCES support_tickets (id),
    kind        text        NOT NULL CHECK (length(kind) BETWEEN 1 AND 40),
    from_status text,
    to_status   text,
    by_user     uuid        REFERENCES users (id),
    detail      jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL
);
CREATE INDEX support_ticket_events_idx ON support_ticket_events (ticket_id, created_at, id);

-- Replies agents reuse, with placeholders filled from the ticket.
CREATE TABLE support_canned_replies (
    id          uuid        PRIMARY KEY,
    title       text        NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    body        text        NOT NULL CHECK (length(body) BETWEEN 1 AND 16000),
    created_by  uuid        NOT NULL REFERENCES users (id),
    used_count  integer     NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT support_canned_replies_title_key UNIQUE (title)
);

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('support.ticket.opened', 'New support ticket',
     'Ticket #{{number}} from {{requester}}: {{subject}} ({{priority}})', false, now()),
    ('support.ticket.assigned', 'A support ticket is yours',
     'Ticket #{{number}}: {{subject}} ({{priority}}) was assigned to you', true, now()),
    ('support.ticket.resolved', 'Your support ticket was resolved',
     'Ticket #{{number}}: {{subject}}. {{resolution}} You can reopen it within 7 days by replying, and rate the help you had.', true, now()),
    ('support.sla.breached', 'A support target was missed',
     'Ticket #{{number}}: {{subject}} ({{priority}}) missed its {{target}} target, due {{due}}', true, now());
