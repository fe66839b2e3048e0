-- Rate-limit permits taken per API key and window by all replicas together (Data/Postgres/PgPermitLedger.cs).
-- Unlogged: counts live for a minute, so they skip the WAL; a crash or a failover to the standby empties the table,
-- and the budgets of the window in progress start afresh.
create unlogged table rate_limit_windows (
    partition    text collate "C" not null, -- the API key's id
    window_start bigint not null,           -- Unix seconds
    taken        bigint not null,
    primary key (partition, window_start)
);
