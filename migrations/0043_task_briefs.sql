-- Creative tasks: a company's brand and audiences, the library of style reference cards, and briefs
-- built in steps, with their files.

-- A client company's brand: what its briefs start from.
CREATE TABLE task_brands (
    org_id     uuid        PRIMARY KEY REFERENCES organizations (id),
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    colours    text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(colours) <= 24),
    fonts      text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(fonts) <= 12),
    tone       text        CHECK (length(tone) <= 2000),
    dos        text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(dos) <= 30),
    donts      text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(donts) <= 30),
    updated_by uuid        NOT NULL REFERENCES users (id),
    updated_at timestamptz NOT NULL
);

-- Who the work speaks to: a company's saved audiences, each in four facets.
CREATE TABLE task_audiences (
    id             uuid        PRIMARY KEY,
    org_id         uuid        NOT NULL REFERENCES organizations (id),
    name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    demographics   jsonb       NOT NULL CHECK (jsonb_typeof(demographics) = 'object'),
    firmographics  jsonb       NOT NULL CHECK (jsonb_typeof(firmographics) = 'object'),
    psychographics jsonb       NOT NULL CHECK (jsonb_typeof(psychographics) = 'object'),
    behaviour      jsonb       NOT NULL CHECK (jsonb_typeof(behaviour) = 'object'),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT task_audiences_name_key UNIQUE (org_id, name)
);

-- The library of style reference cards. A card is a draft until its image is in; the image's perceptual
-- hash refuses a picture the library has already (see styles/phash.rs).
CREATE TABLE task_style_cards (
    id                 uuid        PRIMARY KEY,
    title              text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    deliverable_type   text        NOT NULL,
    style_axis         text        NOT NULL,
    colour_temperature text        NOT NULL CHECK (colour_temperature IN ('warm', 'neutral', 'cool')),
    energy             smallint    NOT NULL CHECK (energy BETWEEN 1 AND 5),
    density            smallint    NOT NULL CHECK (density BETWEEN 1 AND 5),
    formality          smallint    NOT NULL CHECK (formality BETWEEN 1 AND 5),
    colour_samples     text[]      NOT NULL DEFAULT '{}',
    industries         text[]      NOT NULL DEFAULT '{}',
    mood_keywords      text[]      NOT NULL DEFAULT '{}',
    status             text        NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    sha256             text        REFERENCES stored_files (sha256),
    media_type         text,
    width              integer,
    height             integer,
    size               bigint,
    phash              bigint,
    created_by         uuid        NOT NULL REFERENCES users (id),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CHECK ((status = 'draft') = (phash IS NULL)),
    CHECK ((phash IS NULL) = (sha256 IS NULL))
);
CREATE INDEX task_style_cards_active_idx ON task_style_cards (deliverable_type, created_at DESC, id DESC) WHERE status = 'active';

-- Briefs, built in steps: each field's value in `content`, the steps the client confirmed in `confirmed`.
-- A brief becomes a task once (`task_id`).
CREATE TABLE task_briefs (
    id          uuid        PRIMARY KEY,
    org_id      uuid        NOT NULL REFERENCES organizations (id),
    created_by  uuid        NOT NULL REFERENCES users (id),
    title       text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    content     jsonb       NOT NULL CHECK (jsonb_typeof(content) = 'object'),
    confirmed   text[]      NOT NULL DEFAULT '{}',
    audience_id uuid        REFERENCES task_audiences (id),
    task_id     uuid        UNIQUE REFERENCES tasks (id),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX task_briefs_org_idx ON task_briefs (org_id, updated_at DESC, id DESC);

-- The style cards a brief chose, in order: what suggestions for the company learn from.
CREATE TABLE task_brief_styles (
    brief_id  uuid        NOT NULL REFERENCES task_briefs (id) ON DELETE CASCADE,
    card_id   uuid        NOT NULL REFERENCES task_style_cards (id),
    org_id    uuid        NOT NULL REFERENCES organizations (id),
    position  smallint    NOT NULL,
    chosen_at timestamptz NOT NULL,
    PRIMARY KEY (brief_id, card_id)
);
CREATE INDEX task_brief_styles_org_idx ON task_brief_styles (org_id);

-- A company's files for its work: the brand's logo and assets, and briefs' attachments.
CREATE TABLE task_files (
    id          uuid        PRIMARY KEY,
    org_id      uuid        NOT NULL REFERENCES organizations (id),
    purpose     text        NOT NULL CHECK (purpose IN ('brand_logo', 'brand_asset', 'brief_attachment')),
    brief_id    uuid        REFERENCES task_briefs (id) ON DELETE CASCADE,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    sha256      text        NOT NULL REFERENCES stored_files (sha256),
    size        bigint      NOT NULL CHECK (size > 0),
    media_type  text        NOT NULL,
    uploaded_by uuid        NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    CHECK ((purpose = 'brief_attachment') = (brief_id IS NOT NULL))
);
CREATE INDEX task_files_org_idx ON task_files (org_id, purpose, created_at, id);
CREATE INDEX task_files_brief_idx ON task_files (brief_id, created_at, id) WHERE brief_id IS NOT NULL;
CREATE UNIQUE INDEX task_files_one_logo ON task_files (org_id) WHERE purpose = 'brand_logo';
