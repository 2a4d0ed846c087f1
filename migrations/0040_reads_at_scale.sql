-- Reads that stay fast as the data grows (measured by the volume benchmark, docs/benchmarks.md).

-- An account's postings by time: a statement's opening balance is the balance less what was posted
-- since its start, read from this index instead of summing the account's whole history.
CREATE INDEX postings_account_time_idx ON postings (account_id, created_at, id);
DROP INDEX postings_account_idx;

-- The directory near a place, nearest first, without reading every artist: each artist's base as a
-- point on the unit sphere (x, y, z). The straight-line (chord) distance between two such points grows
-- with their great-circle distance, so the `cube` GiST index's nearest-neighbour order is exactly the
-- order by distance on Earth, and a box around the place bounds the scan.
CREATE EXTENSION IF NOT EXISTS cube;
ALTER TABLE artist_profiles ADD COLUMN location cube GENERATED ALWAYS AS (
    CASE WHEN latitude IS NULL OR longitude IS NULL THEN NULL
         ELSE cube(ARRAY[cos(radians(latitude)) * cos(radians(longitude)),
                         cos(radians(latitude)) * sin(radians(longitude)),
                         sin(radians(latitude))]) END) STORED;
CREATE INDEX artist_profiles_location_idx ON artist_profiles USING gist (location);

-- Event search in a city: a city's public events by date, so that a search with a city reads that
-- city's events in the window instead of every event matching the words.
CREATE INDEX events_city_idx ON events (lower(city), starts_at)
    WHERE status IN ('published', 'postponed') AND deleted_at IS NULL;
