-- Platform tables shared by every domain.

-- Which demo datasets have been loaded into this database, so that `backline seed --demo` can run any
-- number of times and each domain's dataset is loaded exactly once.
CREATE TABLE demo_datasets (
    name       text        PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
    version    integer     NOT NULL CHECK (version > 0),
    loaded_at  timestamptz NOT NULL DEFAULT now()
);
