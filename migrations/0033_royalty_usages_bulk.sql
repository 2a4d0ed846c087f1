-- Usage lines are loaded in bulk (a million a report): a foreign key checks each row on its own (it
-- took 60% of the load), and a B-tree on a column whose value is the same for the whole load costs
-- another third. Lines are written only by the job that reads their report, inside the transaction
-- that reads it, and reports are never deleted; a report's lines lie together on disk, so a BRIN
-- index finds them.
ALTER TABLE royalty_usages DROP CONSTRAINT royalty_usages_report_id_fkey;
DROP INDEX royalty_usages_report_idx;
CREATE INDEX royalty_usages_report_brin ON royalty_usages USING brin (report_id);
