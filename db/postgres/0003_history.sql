-- Who wrote each change, and every version of every record (as db/migrations/0003_history.sql).

-- The name of the API key that wrote the change ('seed', 'cli' for HubApi import); null before this migration.
alter table changes add column by_key text collate "C";
create index changes_by_key on changes (by_key, seq);

-- Each created or updated version of a record, as read inside the write that made it (Data/RecordSnapshot.cs).
create table versions (
    seq    bigint primary key references changes (seq),
    record text collate "C" not null
);
