-- Writes: API keys and idempotent POST replays (as db/migrations/0002_writes.sql).

-- Only a SHA-256 hash of each key is kept; the key itself is shown once, when it is created.
create table api_keys (
    id         text collate "C" primary key,
    name       text collate "C" not null,
    hash       text collate "C" not null unique,
    scopes     text collate "C" not null, -- space-separated, e.g. 'write admin'
    created_at text collate "C" not null,
    revoked_at text collate "C"
);
-- A name identifies one live key; a revoked key keeps its row (and its name) for the record.
create unique index api_keys_by_live_name on api_keys (name) where revoked_at is null;

-- The first response to a POST with an Idempotency-Key, replayed for retries with the same key and body.
create table idempotency_keys (
    api_key_id   text collate "C" not null,
    key          text collate "C" not null,
    request_hash text collate "C" not null, -- SHA-256 of method, path and body
    status       bigint not null,
    location     text collate "C",
    etag         text collate "C",
    body         bytea not null,
    created_at   text collate "C" not null,
    primary key (api_key_id, key)
);
create index idempotency_keys_by_age on idempotency_keys (created_at);
