-- Merges of the telemetry tables column by column (the vertical algorithm) whatever their
-- size. By default only merges of 131,072 rows or more are vertical; a smaller merge holds a
-- write buffer for every column stream at once (these tables have about 70, with the maps'
-- keys and values), and on the embedded store those buffers were most of the server's peak
-- memory under load. Measured with `npm run bench:ingest` on the 2-core development machine:
-- peak resident memory +165 to +179 MiB above idle instead of +238 to +285, at the same rate.
ALTER TABLE spans $ON_CLUSTER MODIFY SETTING vertical_merge_algorithm_min_rows_to_activate = 1, vertical_merge_algorithm_min_bytes_to_activate = 0;
ALTER TABLE logs $ON_CLUSTER MODIFY SETTING vertical_merge_algorithm_min_rows_to_activate = 1, vertical_merge_algorithm_min_bytes_to_activate = 0;
ALTER TABLE metric_points $ON_CLUSTER MODIFY SETTING vertical_merge_algorithm_min_rows_to_activate = 1, vertical_merge_algorithm_min_bytes_to_activate = 0;
