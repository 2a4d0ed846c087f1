-- The durable job queue and its recurring schedules.

CREATE TABLE jobs (
    id            uuid        PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]*$'),
    payload       jsonb       NOT NULL,
    state         text        NOT NULL DEFAULT 'queued'
                              CHECK (state IN ('queued', 'running', 'succeeded', 'dead', 'cancelled')),
    priority      smallint    NOT NULL DEFAULT 0,
    run_at        timestamptz NOT NULL,
    attempts      integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts  integer     NOT NULL CHECK (max_attempts > 0),
    unique_key    text,
    locked_by     text,
    locked_until  timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    CHECK ((state = 'running') = (locked_until IS NOT NULL))
);
-- A uniqueness key is held by at most one unfinished job (a timer is never scheduled twice).
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key) WHERE unique_key IS NOT NULL AND state IN ('queued', 'running');
CREATE INDEX jobs_ready_idx ON jobs (priority DESC, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leased_idx ON jobs (locked_until) WHERE state = 'running';
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE state IN ('succeeded', 'cancelled');

CREATE TABLE job_schedules (
    name        text        PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_.]*$'),
    kind        text        NOT NULL,
    payload     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    cron        text        NOT NULL,
    next_run_at timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
