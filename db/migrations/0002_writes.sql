-- Writes: API keys, idempotent POST replays, and the lookups the write path needs.

-- Only a SHA-256 hash of each key is kept; the key itself is shown once, when it is created.
create table api_keys (
    id         text primary key,
    name       text not null,
    hash       text not null unique,
    scopes     text not null, -- space-separated, e.g. 'write admin'
    created_at text not null,
    revoked_at text
);
-- A name identifies one live key; a revoked key keeps its row (and its name) for the record.
create unique index api_keys_by_live_name on api_keys (name) where revoked_at is null;

-- The first response to a POST with an Idempotency-Key, replayed for retries with the same key and body.
create table idempotency_keys (
    api_key_id   text not null,
    key          text not null,
    request_hash text not null, -- SHA-256 of method, path and body
    status       integer not null,
    location     text,
    etag         text,
    body         blob not null,
    created_at   text not null,
    primary key (api_key_id, key)
) without rowid;
create index idempotency_keys_by_age on idempotency_keys (created_at);

-- Ids are never reused: a create looks for an earlier life of the id in the feed.
create index changes_by_record on changes (resource, record_id);
