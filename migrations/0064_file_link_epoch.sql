-- Revoking a file's download links: each link is signed with the file's link epoch, and revoking moves
-- the epoch on, so every link made before stops working at once (links of epoch 0 read as before).

ALTER TABLE project_files ADD COLUMN link_epoch integer NOT NULL DEFAULT 0 CHECK (link_epoch >= 0);
