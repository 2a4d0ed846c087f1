-- A project's files: each a name in a folder, with every version kept (content stored once per SHA-256
-- in the object store, `stored_files`), a review status per version; and each organization's storage:
-- bytes used by distinct content against its allowance, changed only under the row's lock.

CREATE TABLE project_files (
    id             uuid        PRIMARY KEY,
    project_id     uuid        NOT NULL REFERENCES projects (id),
    folder         text        NOT NULL DEFAULT '' CHECK (length(folder) <= 500),
    name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    category       text        NOT NULL CHECK (category IN ('design', 'reference', 'final', 'feedback', 'other')),
    latest_version integer     NOT NULL CHECK (latest_version >= 1),
    created_by     uuid        NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT project_files_name_key UNIQUE (project_id, folder, name)
);

CREATE TABLE project_file_versions (
    file_id       uuid        NOT NULL REFERENCES project_files (id),
    version       integer     NOT NULL CHECK (version >= 1),
    sha256        text        NOT NULL REFERENCES stored_files (sha256),
    size          bigint      NOT NULL CHECK (size >= 0),
    media_type    text        NOT NULL,
    label         text        CHECK (length(label) BETWEEN 1 AND 100),
    status        text        NOT NULL CHECK (status IN ('draft', 'in_review', 'approved', 'changes_requested')),
    restored_from integer,
    uploaded_by   uuid        NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (file_id, version)
);
CREATE INDEX project_file_versions_sha_idx ON project_file_versions (sha256);

CREATE TABLE org_storage (
    organization_id uuid        PRIMARY KEY REFERENCES organizations (id),
    used_bytes      bigint      NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
    quota_bytes     bigint      NOT NULL CHECK (quota_bytes >= 0),
    updated_at      timestamptz NOT NULL
);
