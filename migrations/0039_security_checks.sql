-- The security self-check's runs: what each check found, kept for a year.
CREATE TABLE security_check_runs (
    id         uuid        PRIMARY KEY,
    trigger    text        NOT NULL CHECK (trigger IN ('schedule', 'admin', 'command')),
    passed     boolean     NOT NULL,
    checks     jsonb       NOT NULL CHECK (jsonb_typeof(checks) = 'array'),
    created_at timestamptz NOT NULL
);
CREATE INDEX security_check_runs_created_idx ON security_check_runs (created_at DESC, id DESC);

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('security.check_failed', 'The security self-check failed',
     '{{count}} check(s) failed: {{failed}}. The admin security page and GET /v1/admin/security-checks say what was found and what to do.',
     true, now());
