-- The shared resource a span ran on, for the noisy-neighbour report: the service for server
-- spans (instances of one service share its capacity), the connection pool (or database
-- system and host) for database calls, the destination for messaging. Empty for spans that
-- ran on nothing shared. MATERIALIZED, so it is computed once at insert instead of reading
-- the attribute maps on every report; parts written before this migration compute it on read.
ALTER TABLE spans $ON_CLUSTER
    ADD COLUMN IF NOT EXISTS shared_resource LowCardinality(String) MATERIALIZED multiIf(
        kind = 2, concat('service:', service_name),
        attributes['db.client.connection.pool.name'] != '', concat('db:', attributes['db.client.connection.pool.name']),
        attributes['messaging.destination.name'] != '', concat('queue:', attributes['messaging.destination.name']),
        attributes['db.system'] != '', concat('db:', attributes['db.system'], if(attributes['server.address'] != '', concat('@', attributes['server.address']), '')),
        '');
