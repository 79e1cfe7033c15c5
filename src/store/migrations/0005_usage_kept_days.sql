-- How long the accepted records of a usage row are kept: their table's retention for the
-- tenant when they arrived. The row itself lives for the audit retention (retention_days), so
-- the cost report needs this to charge storage for as long as the data is held. 0 for
-- rejected rows and for rows written before this column (the report then uses the tenant's
-- current retention of the class).
ALTER TABLE ingest_usage $ON_CLUSTER
    ADD COLUMN IF NOT EXISTS kept_days UInt16 DEFAULT 0;
