-- Identity: users, credentials, sessions and tokens, API keys, roles and permissions, organizations,
-- teams, invitations, the audit log, security events, rate limits, and the mail outbox.

CREATE TABLE users (
    id                 uuid        PRIMARY KEY,
    email              text        NOT NULL,
    username           text        NOT NULL CHECK (username ~ '^[A-Za-z0-9_-]{3,50}$' OR status = 'deleted'),
    display_name       text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    password_hash      text,
    status             text        NOT NULL DEFAULT 'pending_verification'
                                   CHECK (status IN ('pending_verification', 'active', 'suspended', 'deleted')),
    email_verified_at  timestamptz,
    avatar_url         text,
    timezone           text        NOT NULL DEFAULT 'UTC',
    locale             text        NOT NULL DEFAULT 'en',
    notification_prefs jsonb       NOT NULL DEFAULT '{}'::jsonb,
    needs_approval     boolean     NOT NULL DEFAULT false,
    approved_at        timestamptz,
    locked_until       timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    deleted_at         timestamptz,
    CHECK ((status = 'deleted') = (deleted_at IS NOT NULL)),
    CHECK (status = 'deleted' OR password_hash IS NOT NULL)
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE INDEX users_created_idx ON users (created_at, id);

-- Global roles of a user (admin, staff, and the personas).
CREATE TABLE user_roles (
    user_id    uuid        NOT NULL REFERENCES users (id),
    role       text        NOT NULL CHECK (role ~ '^[a-z][a-z_]*$'),
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- Single-use tokens sent by email: address verification and password reset. Stored hashed.
CREATE TABLE email_tokens (
    token_hash bytea       PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id),
    purpose    text        NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL CHECK (expires_at > created_at),
    used_at    timestamptz
);
CREATE INDEX email_tokens_user_idx ON email_tokens (user_id, purpose);

-- A session is one login on one device: the family of every refresh token rotated from it.
CREATE TABLE sessions (
    id             uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL,
    last_used_at   timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL CHECK (expires_at > created_at),
    revoked_at     timestamptz,
    revoked_reason text,
    ip             text,
    user_agent     text
);
CREATE INDEX sessions_active_idx ON sessions (user_id, created_at) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    token_hash  bytea       PRIMARY KEY,
    session_id  uuid        NOT NULL REFERENCES sessions (id),
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL CHECK (expires_at > issued_at),
    rotated_at  timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE access_tokens (
    token_hash  bytea       PRIMARY KEY,
    session_id  uuid        NOT NULL REFERENCES sessions (id),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX access_tokens_session_idx ON access_tokens (session_id);

CREATE TABLE api_keys (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id),
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix       text        NOT NULL,
    key_hash     bytea       NOT NULL UNIQUE,
    scopes       text[]      NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz CHECK (expires_at IS NULL OR expires_at > created_at),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);

-- Failed logins per account, for the lockout rule.
CREATE TABLE login_failures (
    user_id   uuid        NOT NULL REFERENCES users (id),
    failed_at timestamptz NOT NULL,
    ip        text
);
CREATE INDEX login_failures_user_idx ON login_failures (user_id, failed_at);

-- Fixed-window counters shared by every Backline process.
CREATE TABLE rate_limits (
    key          text        PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL CHECK (hits > 0)
);

-- Outgoing mail, written in the transaction of the change that causes it.
CREATE TABLE mail_outbox (
    id           uuid        PRIMARY KEY,
    to_address   text        NOT NULL,
    subject      text        NOT NULL,
    body_text    text        NOT NULL,
    created_at   timestamptz NOT NULL,
    delivered_at timestamptz,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text
);
CREATE INDEX mail_outbox_pending_idx ON mail_outbox (created_at) WHERE delivered_at IS NULL;

CREATE TABLE security_events (
    id         uuid        PRIMARY KEY,
    user_id    uuid        REFERENCES users (id),
    kind       text        NOT NULL,
    severity   text        NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    ip         text,
    user_agent text,
    details    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL
);
CREATE INDEX security_events_user_idx ON security_events (user_id, created_at);
CREATE INDEX security_events_created_idx ON security_events (created_at, id);

-- Every change made through the API. Append-only: see the trigger below.
CREATE TABLE audit_log (
    id              uuid        PRIMARY KEY,
    actor_user_id   uuid,
    actor_api_key   uuid,
    organization_id uuid,
    action          text        NOT NULL,
    resource_type   text        NOT NULL,
    resource_id     text,
    before          jsonb,
    after           jsonb,
    request_id      text,
    ip              text,
    created_at      timestamptz NOT NULL
);
CREATE INDEX audit_log_org_idx ON audit_log (organization_id, created_at);
CREATE INDEX audit_log_created_idx ON audit_log (created_at, id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log rows cannot be changed or removed' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
