-- Hourly sums of the rollup's counts, kept by the engine beside resource_minutes as an
-- aggregate projection. The incidents report counts a tenant's requests and failures over its
-- 28-day SLO window and its calendar month, and its burn windows of a day and three days
-- reach back days before the period: from the minute rows a month is 43,200 rows per service,
-- from these 720. A query grouping by the hour of `minute` (and filtering on nothing finer) is
-- answered from the projection; one that needs minutes reads the table.
--
-- A projection, not a second table filled by a view: inserts of every kind (ingest's sums,
-- a tenant's restore or move) build it with the part, and mutations (a tenant's erase) rebuild
-- it, so it can never disagree with the minutes. Merges of the folding engine rebuild it too
-- (the engine refuses a projection on a folding table otherwise). Parts written before this
-- migration get theirs from the MATERIALIZE mutation in the background; until then a query
-- reads their minute rows, which gives the same sums.
ALTER TABLE resource_minutes $ON_CLUSTER MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE resource_minutes $ON_CLUSTER
    ADD PROJECTION IF NOT EXISTS server_hours (
        SELECT tenant_id, resource, toStartOfHour(minute), sum(requests), sum(errors), sum(slow), min(slow_threshold_min), max(slow_threshold_max)
         GROUP BY tenant_id, resource, toStartOfHour(minute)
    );

ALTER TABLE resource_minutes $ON_CLUSTER MATERIALIZE PROJECTION server_hours;
