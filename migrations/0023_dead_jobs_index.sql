-- /metrics counts dead jobs by kind at every scrape: few rows, found without reading the finished ones.
CREATE INDEX jobs_dead_idx ON jobs (kind) WHERE state = 'dead';
