-- Creative tasks: categories, freelancers and their skills, the versioned assignment configuration,
-- tasks with their lifecycle, offers with their score breakdown, and each task's activity.

CREATE TABLE task_categories (
    id              uuid        PRIMARY KEY,
    slug            text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9_]*$'),
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    base_credits    integer     NOT NULL CHECK (base_credits > 0),
    required_skills text[]      NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL
);

CREATE TABLE freelancers (
    user_id         uuid        PRIMARY KEY REFERENCES users (id),
    status          text        NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'suspended')),
    headline        text        NOT NULL DEFAULT '' CHECK (length(headline) <= 200),
    experience      text        NOT NULL CHECK (experience IN ('junior', 'mid', 'senior', 'expert')),
    time_zone       text,
    work_starts     smallint    NOT NULL DEFAULT 9 CHECK (work_starts BETWEEN 0 AND 23),
    work_ends       smallint    NOT NULL DEFAULT 18 CHECK (work_ends BETWEEN 1 AND 24),
    specialties     text[]      NOT NULL DEFAULT '{}',
    portfolio       text[]      NOT NULL DEFAULT '{}',
    -- Measured performance, as counts (rates and the mean rating are derived from them; the acceptance
    -- rate from the freelancer's offers).
    ratings_count   integer     NOT NULL DEFAULT 0 CHECK (ratings_count >= 0),
    ratings_sum     integer     NOT NULL DEFAULT 0 CHECK (ratings_sum BETWEEN ratings_count AND 5 * ratings_count),
    deliveries      integer     NOT NULL DEFAULT 0 CHECK (deliveries >= 0),
    on_time         integer     NOT NULL DEFAULT 0 CHECK (on_time BETWEEN 0 AND deliveries),
    decided_by      uuid        REFERENCES users (id),
    decision_note   text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX freelancers_approved_idx ON freelancers (user_id) WHERE status = 'approved';

CREATE TABLE freelancer_skills (
    user_id     uuid     NOT NULL REFERENCES freelancers (user_id),
    skill       text     NOT NULL CHECK (skill ~ '^[a-z0-9][a-z0-9_]*$'),
    proficiency smallint NOT NULL CHECK (proficiency BETWEEN 0 AND 100),
    PRIMARY KEY (user_id, skill)
);
CREATE INDEX freelancer_skills_skill_idx ON freelancer_skills (skill, proficiency);

CREATE TABLE freelancer_vacations (
    id        uuid        PRIMARY KEY,
    user_id   uuid        NOT NULL REFERENCES freelancers (user_id),
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX freelancer_vacations_user_idx ON freelancer_vacations (user_id, ends_at);

-- A client's favourite freelancers (an organization's).
CREATE TABLE task_favourites (
    org_id     uuid        NOT NULL REFERENCES organizations (id),
    user_id    uuid        NOT NULL REFERENCES freelancers (user_id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

-- The assignment algorithm's configuration, versioned: drafts, one published version active at a time.
CREATE TABLE task_assignment_configs (
    version           integer     PRIMARY KEY,
    status            text        NOT NULL CHECK (status IN ('draft', 'published', 'retired')),
    weight_skill      smallint    NOT NULL CHECK (weight_skill >= 0),
    weight_timezone   smallint    NOT NULL CHECK (weight_timezone >= 0),
    weight_experience smallint    NOT NULL CHECK (weight_experience >= 0),
    weight_workload   smallint    NOT NULL CHECK (weight_workload >= 0),
    weight_performance smallint   NOT NULL CHECK (weight_performance >= 0),
    note              text        NOT NULL DEFAULT '',
    created_by        uuid        REFERENCES users (id),
    created_at        timestamptz NOT NULL,
    published_at      timestamptz,
    CONSTRAINT task_assignment_configs_weights_sum
        CHECK (weight_skill + weight_timezone + weight_experience + weight_workload + weight_performance = 100)
);
CREATE UNIQUE INDEX task_assignment_configs_one_published ON task_assignment_configs ((true)) WHERE status = 'published';

CREATE TABLE tasks (
    id               uuid        PRIMARY KEY,
    org_id           uuid        NOT NULL REFERENCES organizations (id),
    created_by       uuid        NOT NULL REFERENCES users (id),
    category_id      uuid        NOT NULL REFERENCES task_categories (id),
    title            text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    brief            jsonb       NOT NULL CHECK (jsonb_typeof(brief) = 'object'),
    deadline_at      timestamptz NOT NULL,
    urgency          text        NOT NULL CHECK (urgency IN ('critical', 'urgent', 'standard', 'flexible')),
    complexity       text        NOT NULL CHECK (complexity IN ('simple', 'intermediate', 'advanced', 'expert')),
    credits          integer     NOT NULL CHECK (credits > 0),
    required_skills  text[]      NOT NULL,
    status           text        NOT NULL CHECK (status IN ('pending', 'offered', 'assigned', 'in_progress',
                         'pending_admin_review', 'in_review', 'revision_requested', 'completed', 'cancelled',
                         'unassignable')),
    level            smallint    NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 4),
    offers_at_level  smallint    NOT NULL DEFAULT 0 CHECK (offers_at_level >= 0),
    claims_until     timestamptz,
    assignee         uuid        REFERENCES freelancers (user_id),
    revisions        smallint    NOT NULL DEFAULT 0 CHECK (revisions BETWEEN 0 AND 2),
    delivery_note    text,
    review_note      text,
    delivered_at     timestamptz,
    rating           smallint    CHECK (rating BETWEEN 1 AND 5),
    completed_at     timestamptz,
    cancelled_at     timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CHECK ((status IN ('assigned', 'in_progress', 'pending_admin_review', 'in_review', 'revision_requested',
                       'completed')) = (assignee IS NOT NULL) OR status = 'cancelled')
);
CREATE INDEX tasks_org_idx ON tasks (org_id, created_at DESC, id DESC);
CREATE INDEX tasks_assignee_idx ON tasks (assignee, status) WHERE assignee IS NOT NULL;
CREATE INDEX tasks_waiting_idx ON tasks (created_at, id) WHERE status = 'pending';
CREATE INDEX tasks_open_claims_idx ON tasks (claims_until) WHERE level = 3 AND status = 'pending';

CREATE TABLE task_offers (
    id             uuid        PRIMARY KEY,
    task_id        uuid        NOT NULL REFERENCES tasks (id),
    user_id        uuid        NOT NULL REFERENCES freelancers (user_id),
    level          smallint    NOT NULL CHECK (level BETWEEN 1 AND 3),
    config_version integer     NOT NULL REFERENCES task_assignment_configs (version),
    score          smallint    NOT NULL CHECK (score BETWEEN 0 AND 100),
    breakdown      jsonb       NOT NULL,
    status         text        NOT NULL CHECK (status IN ('offered', 'accepted', 'declined', 'expired', 'withdrawn')),
    decline_reason text        CHECK (decline_reason IN ('too_busy', 'skill_mismatch', 'deadline_too_tight',
                                   'low_credits', 'personal_conflict', 'other')),
    decline_note   text,
    expires_at     timestamptz NOT NULL,
    responded_at   timestamptz,
    created_at     timestamptz NOT NULL,
    UNIQUE (task_id, user_id),
    CHECK ((status = 'declined') = (decline_reason IS NOT NULL))
);
-- At most one live offer per task.
CREATE UNIQUE INDEX task_offers_one_live ON task_offers (task_id) WHERE status = 'offered';
CREATE INDEX task_offers_user_idx ON task_offers (user_id, created_at DESC, id DESC);

CREATE TABLE task_activity (
    id         uuid        PRIMARY KEY,
    task_id    uuid        NOT NULL REFERENCES tasks (id),
    actor      uuid        REFERENCES users (id),
    action     text        NOT NULL,
    detail     jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL
);
CREATE INDEX task_activity_task_idx ON task_activity (task_id, created_at, id);

INSERT INTO task_assignment_configs (version, status, weight_skill, weight_timezone, weight_experience,
                                     weight_workload, weight_performance, note, created_at, published_at)
VALUES (1, 'published', 35, 20, 20, 15, 10, 'The defaults', now(), now());

INSERT INTO task_categories (id, slug, name, base_credits, required_skills, created_at) VALUES
    ('0190a000-0000-7000-8000-000000000001', 'static_ads', 'Static ads', 10, '{graphic_design}', now()),
    ('0190a000-0000-7000-8000-000000000002', 'video_motion', 'Video and motion', 30, '{motion_design,video_editing}', now()),
    ('0190a000-0000-7000-8000-000000000003', 'social_media', 'Social media', 10, '{graphic_design,copywriting}', now()),
    ('0190a000-0000-7000-8000-000000000004', 'ui_ux', 'UI/UX', 50, '{ui_design,ux_research}', now());

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('task.offered', 'A task is offered to you',
     '"{{title}}" ({{credits}} credits, due {{deadline}}). Accept before {{expires}} or it goes to someone else.', true, now()),
    ('task.open_for_claims', 'A task is open to claim',
     '"{{title}}" found no one by offers; any qualified freelancer may claim it until {{until}}.', false, now()),
    ('task.assigned', 'Your task is assigned',
     '"{{title}}" was accepted by a freelancer.', false, now()),
    ('task.unassignable', 'A task could not be assigned',
     '"{{title}}" went through every escalation level without a taker; assign it by hand.', true, now()),
    ('task.delivered', 'Your task is delivered',
     '"{{title}}" is ready for your review.', true, now()),
    ('task.returned', 'Your delivery was returned',
     '"{{title}}": {{note}}', true, now()),
    ('task.revision_requested', 'A revision is requested',
     '"{{title}}": {{note}}', true, now()),
    ('task.completed', 'Your task is approved',
     '"{{title}}" was approved; {{earned}} is in your pending earnings.', true, now());
