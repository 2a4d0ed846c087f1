-- Stores releases are delivered to, kept by admins: their DDEX party id, how messages reach them (an
-- SFTP server or an S3 bucket) and the territories they serve. Credentials are sealed at rest.
CREATE TABLE stores (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    dpid        text        NOT NULL CHECK (dpid ~ '^PADPIDA[A-Za-z0-9]{1,30}$'),
    protocol    text        NOT NULL CHECK (protocol IN ('sftp', 's3')),
    host        text        CHECK (length(host) BETWEEN 1 AND 255),
    port        integer     CHECK (port BETWEEN 1 AND 65535),
    username    text        CHECK (length(username) BETWEEN 1 AND 100),
    bucket      text        CHECK (length(bucket) BETWEEN 3 AND 63),
    region      text        CHECK (length(region) BETWEEN 1 AND 50),
    endpoint    text        CHECK (length(endpoint) BETWEEN 1 AND 500),
    path        text        NOT NULL DEFAULT '' CHECK (length(path) <= 500),
    -- Sealed JSON: a password or private key (SFTP), an access key pair (S3).
    credentials text,
    ern_version text        NOT NULL DEFAULT '4.3' CHECK (ern_version IN ('4.3')),
    -- ISO 3166-1 alpha-2 codes; none means worldwide.
    territories text[]      NOT NULL DEFAULT '{}',
    lead_days   integer     NOT NULL DEFAULT 14 CHECK (lead_days BETWEEN 0 AND 90),
    enabled     boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CHECK (protocol <> 'sftp' OR (host IS NOT NULL AND username IS NOT NULL)),
    CHECK (protocol <> 's3' OR bucket IS NOT NULL)
);
CREATE UNIQUE INDEX stores_name_key ON stores (lower(name));
