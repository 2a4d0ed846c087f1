-- Domain events, the notifications they become, their templates, and outgoing webhooks.

-- Every event a domain emits, written in the transaction of the change; dispatched by a job.
CREATE TABLE events (
    id              uuid        PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]*\.[a-z0-9_.]+$'),
    recipients      uuid[]      NOT NULL DEFAULT '{}',
    organization_id uuid,
    data            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL,
    dispatched_at   timestamptz
);
CREATE INDEX events_org_idx ON events (organization_id, created_at);

-- The in-app notification center. Ids are time-ordered, so they order the stream too.
CREATE TABLE notifications (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id),
    event_id   uuid        NOT NULL REFERENCES events (id),
    kind       text        NOT NULL,
    title      text        NOT NULL,
    body       text        NOT NULL,
    data       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    read_at    timestamptz,
    created_at timestamptz NOT NULL,
    UNIQUE (event_id, user_id)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

-- Per event kind: what the notification and its email say. Variables are {{name}}.
CREATE TABLE notification_templates (
    kind        text        PRIMARY KEY,
    title       text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body        text        NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    email       boolean     NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE webhook_endpoints (
    id              uuid        PRIMARY KEY,
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    url             text        NOT NULL CHECK (url ~ '^https?://'),
    description     text        NOT NULL DEFAULT '',
    event_kinds     text[]      NOT NULL CHECK (cardinality(event_kinds) > 0),
    -- Secrets are needed in clear to sign, so they are encrypted at rest with the server's key.
    secrets         jsonb       NOT NULL,
    enabled         boolean     NOT NULL DEFAULT true,
    disabled_reason text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    created_by      uuid        NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_org_idx ON webhook_endpoints (organization_id);

CREATE TABLE webhook_deliveries (
    id            uuid        PRIMARY KEY,
    endpoint_id   uuid        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id      uuid        NOT NULL REFERENCES events (id),
    state         text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts      integer     NOT NULL DEFAULT 0,
    last_status   integer,
    last_error    text,
    response_ms   integer,
    created_at    timestamptz NOT NULL,
    delivered_at  timestamptz,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC);

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('account.verified', 'Welcome to Backline',
     'Hi {{display_name}}, your email address is confirmed and your account is ready.', false, now()),
    ('account.password_changed', 'Your password was changed',
     'Hi {{display_name}}, the password of your Backline account was changed. If this was not you, reset it at once.', true, now()),
    ('organization.invitation_received', 'Invitation to {{organization_name}}',
     '{{inviter_name}} invited you to join {{organization_name}} as {{role}}.', false, now()),
    ('organization.member_added', '{{member_name}} joined {{organization_name}}',
     '{{member_name}} joined {{organization_name}} as {{role}}.', true, now()),
    ('webhook.endpoint_disabled', 'A webhook endpoint was disabled',
     'Deliveries to {{url}} failed {{failures}} times in a row, so the endpoint was disabled. Fix the receiver, then enable it again.',
     true, now());

-- The HTML alternative of a message, when it has one.
ALTER TABLE mail_outbox ADD COLUMN body_html text;
