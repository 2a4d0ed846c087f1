-- Creative tasks' delivery: deliverable files (versioned by name within a task), messages on a task,
-- and the affinity between a company and a freelancer that approved work builds.

ALTER TABLE task_files DROP CONSTRAINT task_files_purpose_check;
ALTER TABLE task_files ADD CONSTRAINT task_files_purpose_check
    CHECK (purpose IN ('brand_logo', 'brand_asset', 'brief_attachment', 'deliverable'));
ALTER TABLE task_files ADD COLUMN task_id uuid REFERENCES tasks (id);
-- A deliverable's version among the task's files of its name (1, 2, ...), and the delivery round it was
-- made for (the task's revisions when it was uploaded).
ALTER TABLE task_files ADD COLUMN version integer CHECK (version >= 1);
ALTER TABLE task_files ADD COLUMN round smallint CHECK (round >= 0);
ALTER TABLE task_files ADD CONSTRAINT task_files_deliverable_check
    CHECK ((purpose = 'deliverable') = (task_id IS NOT NULL AND version IS NOT NULL AND round IS NOT NULL));
CREATE UNIQUE INDEX task_files_versions ON task_files (task_id, name, version) WHERE task_id IS NOT NULL;

-- Messages on a task between its company, its freelancer and staff.
CREATE TABLE task_messages (
    id         uuid        PRIMARY KEY,
    task_id    uuid        NOT NULL REFERENCES tasks (id),
    author     uuid        NOT NULL REFERENCES users (id),
    body       text        NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at timestamptz NOT NULL
);
CREATE INDEX task_messages_task_idx ON task_messages (task_id, created_at, id);

-- What approved work built between a company and a freelancer.
CREATE TABLE task_affinity (
    org_id           uuid        NOT NULL REFERENCES organizations (id),
    user_id          uuid        NOT NULL REFERENCES freelancers (user_id),
    approved         integer     NOT NULL CHECK (approved >= 1),
    ratings_sum      integer     NOT NULL CHECK (ratings_sum >= 0),
    ratings          integer     NOT NULL CHECK (ratings >= 0),
    last_approved_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('task.message', 'A message on a task',
     '"{{title}}": {{author}} wrote: {{excerpt}}', false, now());
