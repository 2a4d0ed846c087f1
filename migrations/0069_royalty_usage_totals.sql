-- A report's usage lines are summed as they are read: one row per summary record, match key and use
-- type, with how many lines, usages and how much revenue it holds (a million lines of 20,000
-- recordings sold in two territories are 40,000 rows, not a million). Matching, the royalty lines,
-- the unmatched queue and the reconciliation only ever read lines grouped so. The lines themselves stay
-- in the report's files, kept by content. A reader holding more groups than it keeps in memory writes
-- them and starts again, so a group may have several rows: every query sums them.
--
-- Rows are written only by the job that reads their report, inside the transaction that reads it, and
-- reports are never deleted (as for the lines before them: no foreign key to check row by row).
CREATE TABLE royalty_usage_totals (
    report_id  uuid    NOT NULL,
    summary_id text    NOT NULL,
    match_key  text,
    use_type   text    NOT NULL,
    -- The resource's title and artist as the first of the group's lines names them.
    title      text    NOT NULL,
    artist     text    NOT NULL,
    lines      bigint  NOT NULL CHECK (lines > 0),
    usages     bigint  NOT NULL,
    revenue    numeric NOT NULL
);
-- A report's rows lie together, written by one COPY.
CREATE INDEX royalty_usage_totals_report ON royalty_usage_totals USING brin (report_id);

-- Lines stored before named their resource on its first line in each block only: a group's title is
-- its key's.
INSERT INTO royalty_usage_totals (report_id, summary_id, match_key, use_type, title, artist, lines, usages, revenue)
SELECT report_id, summary_id, match_key, use_type,
       COALESCE(min(title), min(min(title)) OVER key, ''), COALESCE(min(artist), min(min(artist)) OVER key, ''),
       count(*), sum(usages), sum(revenue)
FROM royalty_usages
GROUP BY report_id, summary_id, match_key, use_type
WINDOW key AS (PARTITION BY report_id, match_key);

DROP TABLE royalty_usages;

-- The same holds for a report's matches and royalty lines (tens of thousands a report, each checked
-- against the report on its own: a fifth of reading a million-line report): they are written only
-- by the job that reads the report, or by a staff match holding the report's row, and reports are
-- never deleted.
ALTER TABLE royalty_matches DROP CONSTRAINT royalty_matches_report_id_fkey;
ALTER TABLE royalty_lines DROP CONSTRAINT royalty_lines_report_id_fkey;
