-- Organizations (labels, sub-labels, promoters, venues, agencies, companies, schools, bands), their
-- members, invitations and teams, and the permission templates admins manage.

CREATE TABLE organizations (
    id          uuid        PRIMARY KEY,
    slug        text        NOT NULL CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$'),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text        NOT NULL CHECK (kind IN ('label', 'sub_label', 'promoter', 'venue', 'agency', 'company',
                                                     'school', 'band', 'other')),
    parent_id   uuid        REFERENCES organizations (id) CHECK (parent_id IS NULL OR parent_id <> id),
    description text        NOT NULL DEFAULT '',
    website     text,
    email       text,
    country     text        CHECK (country IS NULL OR country ~ '^[A-Z]{2}$'),
    city        text,
    settings    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_by  uuid        NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);
CREATE INDEX organizations_parent_idx ON organizations (parent_id);

-- Named, reusable sets of permissions, usable as organization roles.
CREATE TABLE permission_templates (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{1,49}$'
                                            AND name NOT IN ('owner', 'admin', 'member', 'viewer')),
    description text        NOT NULL DEFAULT '',
    permissions text[]      NOT NULL CHECK (cardinality(permissions) > 0),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX permission_templates_name_key ON permission_templates (name);

CREATE TABLE org_members (
    org_id    uuid        NOT NULL REFERENCES organizations (id),
    user_id   uuid        NOT NULL REFERENCES users (id),
    role      text        NOT NULL CHECK (role ~ '^[a-z][a-z0-9_]*$'),
    joined_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_user_idx ON org_members (user_id);

CREATE TABLE org_invitations (
    id           uuid        PRIMARY KEY,
    org_id       uuid        NOT NULL REFERENCES organizations (id),
    email        text        NOT NULL,
    role         text        NOT NULL CHECK (role ~ '^[a-z][a-z0-9_]*$'),
    token_hash   bytea       NOT NULL UNIQUE,
    invited_by   uuid        NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL CHECK (expires_at > created_at),
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),
    responded_at timestamptz,
    responded_by uuid        REFERENCES users (id),
    CHECK ((status = 'pending') = (responded_at IS NULL))
);
-- One open invitation per address and organization.
CREATE UNIQUE INDEX org_invitations_pending_key ON org_invitations (org_id, lower(email)) WHERE status = 'pending';

CREATE TABLE teams (
    id          uuid        PRIMARY KEY,
    org_id      uuid        NOT NULL REFERENCES organizations (id),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    UNIQUE (id, org_id)
);
CREATE UNIQUE INDEX teams_name_key ON teams (org_id, lower(name));

-- A team member is always a member of the team's organization: removing them from it removes them here.
CREATE TABLE team_members (
    team_id  uuid        NOT NULL,
    org_id   uuid        NOT NULL,
    user_id  uuid        NOT NULL,
    added_at timestamptz NOT NULL,
    PRIMARY KEY (team_id, user_id),
    FOREIGN KEY (team_id, org_id) REFERENCES teams (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES org_members (org_id, user_id) ON DELETE CASCADE
);
CREATE INDEX team_members_member_idx ON team_members (org_id, user_id);
