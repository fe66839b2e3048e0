-- The nine resources, their relations, provenance, the change feed and the search index.
-- Timestamps are ISO 8601 UTC text (sortable as text); booleans are 0/1 integers.
-- Records are addressed by their slug `id`; `row_id` is internal: an explicit integer key (so VACUUM keeps it)
-- that numbers the record's search row.

create table meta (
    key   text primary key,
    value text not null
);

-- Signs paging cursors so a tampered cursor is refused; kept in the database so cursors survive restarts.
insert into meta (key, value) values ('cursor_key', lower(hex(randomblob(32))));

create table sources (
    row_id      integer primary key,
    id          text not null unique,
    name        text not null,
    author      text,
    section     text,
    description text,
    text        text,
    version     integer not null default 1,
    created_at  text not null,
    updated_at  text not null
);

create table zones (
    row_id      integer primary key,
    id          text not null unique,
    name        text not null,
    district    text,
    description text,
    version     integer not null default 1,
    created_at  text not null,
    updated_at  text not null
);

create table industries (
    row_id      integer primary key,
    id          text not null unique,
    name        text not null,
    strategic   integer not null default 0 check (strategic in (0, 1)),
    description text,
    version     integer not null default 1,
    created_at  text not null,
    updated_at  text not null
);

create table firms (
    row_id      integer primary key,
    id          text not null unique,
    name        text not null,
    zone_id     text references zones (id),
    description text,
    version     integer not null default 1,
    created_at  text not null,
    updated_at  text not null
);

create table targets (
    row_id      integer primary key,
    id          text not null unique,
    name        text not null,
    industry_id text references industries (id),
    value       real,
    unit        text,
    deadline    integer not null,
    description text,
    version     integer not null default 1,
    created_at  text not null,
    updated_at  text not null
);

create table projects (
    row_id         integer primary key,
    id             text not null unique,
    name           text not null,
    firm_id        text references firms (id),
    zone_id        text references zones (id),
    investment_usd real,
    description    text,
    version        integer not null default 1,
    created_at     text not null,
    updated_at     text not null
);

create table facilities (
    row_id      integer primary key,
    id          text not null unique,
    name        text not null,
    zone_id     text references zones (id),
    kind        text,
    description text,
    version     integer not null default 1,
    created_at  text not null,
    updated_at  text not null
);

create table services (
    row_id      integer primary key,
    id          text not null unique,
    name        text not null,
    area        text check (area in ('economy', 'daily-life', 'urban-management')),
    figure      text,
    description text,
    version     integer not null default 1,
    created_at  text not null,
    updated_at  text not null
);

create table indicators (
    row_id      integer primary key,
    id          text not null unique,
    name        text not null,
    value       real,
    unit        text,
    zone_id     text references zones (id),
    description text,
    version     integer not null default 1,
    created_at  text not null,
    updated_at  text not null
);

create table zone_industries (
    zone_id     text not null references zones (id),
    industry_id text not null references industries (id),
    primary key (zone_id, industry_id)
) without rowid;
create index zone_industries_by_industry on zone_industries (industry_id, zone_id);

create table firm_industries (
    firm_id     text not null references firms (id),
    industry_id text not null references industries (id),
    primary key (firm_id, industry_id)
) without rowid;
create index firm_industries_by_industry on firm_industries (industry_id, firm_id);

-- Provenance: each record's supporting quotes, in order.
create table citations (
    resource  text not null,
    record_id text not null,
    position  integer not null,
    source_id text not null references sources (id),
    quote     text not null,
    primary key (resource, record_id, position)
) without rowid;
create index citations_by_source on citations (source_id);

-- Every write appends one row here in the same transaction, so the feed never misses or invents a change.
create table changes (
    seq       integer primary key autoincrement,
    resource  text not null,
    record_id text not null,
    op        text not null check (op in ('created', 'updated', 'deleted')),
    version   integer not null,
    at        text not null
);
create index changes_by_resource on changes (resource, seq);

-- Full-text search over names, descriptions and quotes, maintained by the write path. Contentless: it holds only
-- the index. A record's search row is numbered (resource code << 40) + row_id, so a search of one resource is a
-- rowid range and a hit leads straight to its record (see Http/FullText.cs).
create virtual table search using fts5 (
    name,
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Foreign keys and sort orders the list queries use (keyset pages seek these instead of sorting).
create index firms_by_zone on firms (zone_id, id);
create index firms_by_zone_name on firms (zone_id, name, id);
create index firms_by_name on firms (name, id);
create index firms_by_created on firms (created_at, id);
create index firms_by_updated on firms (updated_at, id);
create index targets_by_industry on targets (industry_id);
create index targets_by_deadline on targets (deadline, id);
create index projects_by_firm on projects (firm_id);
create index projects_by_zone on projects (zone_id);
create index facilities_by_zone on facilities (zone_id);
create index indicators_by_zone on indicators (zone_id);
