-- Event search in a city without reading the events: the city's public events by date carry what the
-- search filters and ranks on (the search vector, the category), so a search in a city is an index-only
-- scan and only the page's events are read. A btree entry has a size limit (about 2.7 kB) that a long
-- description's vector could pass, so the vectors up to 1,500 bytes (as text) are carried and the rare
-- larger ones have an index of their own; a search reads both (see `events::repo::search_in_city`).
CREATE INDEX events_city_search_idx ON events (lower(city), starts_at) INCLUDE (id, city, category_id, search)
    WHERE status IN ('published', 'postponed') AND deleted_at IS NULL AND octet_length(search::text) <= 1500;
CREATE INDEX events_city_large_idx ON events (lower(city), starts_at)
    WHERE status IN ('published', 'postponed') AND deleted_at IS NULL AND octet_length(search::text) > 1500;
DROP INDEX events_city_idx;
