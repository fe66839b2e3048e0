-- Who wrote each change, and every version of every record (history, audit, GET ?version=N).

-- The name of the API key that wrote the change ('seed' for the seed dataset, 'cli' for HubApi import); never the key
-- itself. Null for the changes written before this migration.
alter table changes add column by_key text;
create index changes_by_key on changes (by_key, seq);

-- Each created or updated version of a record, as read inside the write that made it (Data/RecordSnapshot.cs), keyed
-- by its change-feed row: a version renders exactly as its GET did, with the same ETag, after later writes and deletion.
create table versions (
    seq    integer primary key references changes (seq),
    record text not null
);
