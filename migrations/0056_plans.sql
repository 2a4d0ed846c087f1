-- Organizations' plans: Free (no row), Pro or Team, paid monthly from the organization's wallet. A
-- period's renewal is charged in the three days before it ends (retried daily); a period that ends
-- unpaid falls back to Free, deleting nothing. A downgrade waits for the period's end.
CREATE TABLE org_plans (
    organization_id  uuid        PRIMARY KEY REFERENCES organizations (id),
    plan             text        NOT NULL CHECK (plan IN ('free', 'pro', 'team')),
    period_start     timestamptz,
    period_end       timestamptz,
    -- What the next period is (a downgrade, or Free to cancel); the same plan when null.
    next_plan        text        CHECK (next_plan IN ('free', 'pro', 'team')),
    -- The next period is paid already (its charge went through).
    renewed          boolean     NOT NULL DEFAULT false,
    renewal_failures integer     NOT NULL DEFAULT 0,
    -- Granted by a platform admin without charge (renewed without one).
    complimentary    boolean     NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT org_plans_period CHECK ((plan = 'free') = (period_end IS NULL) AND (period_start IS NULL) = (period_end IS NULL))
);

-- Every charge for a plan, paid or failed: what the statement shows, and why a renewal failed.
CREATE TABLE plan_charges (
    id              uuid        PRIMARY KEY,
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    plan            text        NOT NULL CHECK (plan IN ('pro', 'team')),
    amount_minor    bigint      NOT NULL CHECK (amount_minor > 0),
    currency        text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    period_start    timestamptz NOT NULL,
    period_end      timestamptz NOT NULL,
    outcome         text        NOT NULL CHECK (outcome IN ('paid', 'failed')),
    reason          text        CHECK (length(reason) <= 500),
    entry_id        uuid,
    by_user         uuid        REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    CONSTRAINT plan_charges_entry CHECK ((outcome = 'paid') = (entry_id IS NOT NULL))
);
CREATE INDEX plan_charges_org_idx ON plan_charges (organization_id, created_at DESC);

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('plan.renewal_failed', 'Your plan could not be renewed',
     '{{organization}}: the {{plan}} plan''s renewal of {{amount}} failed ({{reason}}). We try again daily; if the wallet cannot pay by {{period_end}}, the organization moves to Free (nothing is deleted).', true, now()),
    ('plan.changed', 'Your plan changed',
     '{{organization}} is on the {{plan}} plan now.', true, now());
