-- A project's structure: folders of its own (a file's folder is still its path; an empty folder is kept
-- here), checklists of items to tick, and templates an organization keeps of a project's structure
-- (folders, members' roles, checklists), copied into each project made from one.

CREATE TABLE project_folders (
    project_id uuid        NOT NULL REFERENCES projects (id),
    path       text        NOT NULL CHECK (length(path) BETWEEN 1 AND 500),
    created_by uuid        NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (project_id, path)
);

CREATE TABLE project_checklists (
    id         uuid        PRIMARY KEY,
    project_id uuid        NOT NULL REFERENCES projects (id),
    title      text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    created_by uuid        NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX project_checklists_project_idx ON project_checklists (project_id, created_at);

CREATE TABLE project_checklist_items (
    id           uuid        PRIMARY KEY,
    checklist_id uuid        NOT NULL REFERENCES project_checklists (id),
    position     integer     NOT NULL CHECK (position >= 0),
    body         text        NOT NULL CHECK (length(body) BETWEEN 1 AND 500),
    done_at      timestamptz,
    done_by      uuid        REFERENCES users (id),
    CONSTRAINT project_checklist_items_done CHECK ((done_at IS NULL) = (done_by IS NULL)),
    CONSTRAINT project_checklist_items_position_key UNIQUE (checklist_id, position)
);

CREATE TABLE project_templates (
    id              uuid        PRIMARY KEY,
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description     text        NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    kind            text        NOT NULL,
    folders         text[]      NOT NULL DEFAULT '{}',
    -- [{"user_id": "…", "role": "editor"}]
    roles           jsonb       NOT NULL DEFAULT '[]',
    -- [{"title": "…", "items": ["…"]}]
    checklists      jsonb       NOT NULL DEFAULT '[]',
    created_by      uuid        NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX project_templates_name_key ON project_templates (organization_id, lower(name));
