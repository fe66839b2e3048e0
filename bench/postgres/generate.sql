-- Fills a HubApi PostgreSQL database (migrated and seeded by the service itself) with :firms synthetic firms, for the
-- load benchmark: psql -v firms=1000000 -f bench/postgres/generate.sql. The shape follows bench/Generate (the SQLite
-- generator): ids bench-firm-0000001..., a fifth of the firms in lingang, one or two industries and one citation each,
-- a search document as the service writes it (name weighted A, body B), and a feed row per record. Deterministic.
\set ON_ERROR_STOP on
begin;

create temporary table synthetic as
with w as (
    select string_to_array('Aurora Blue Bright Clear Crimson Deep East Eternal First Grand Great Green Happy Harmony High Infinite Jade Lucky Modern New Noble North Nova Ocean Pacific Prime Rapid Red Rising Royal Sky Smart Solid South Star Sun Swift True United Vast West White Wise Yellow Zen Bold Calm Dragon Falcon Tiger', ' ') as adjectives,
           string_to_array('Bridge Cloud Crystal Dawn Engine Field Flow Forest Gate Grid Harbor Horizon Lake Light Link Matrix Mountain Orbit Path Peak Pixel Point Pulse River Road Rock Signal Spark Sphere Spring Stone Stream Tide Tower Vector Vista Wave Wind Wing Zone', ' ') as nouns,
           string_to_array('chip wafer lithography packaging sensor lidar radar battery robot drone genome vaccine antibody diagnostics imaging cloud database payments blockchain ledger streaming animation gaming metaverse translation speech vision recommendation logistics warehouse satellite navigation photonics laser fiber antenna modem router firmware compiler simulation analytics forecasting insurance lending retail charging hydrogen solar turbine', ' ') as topics,
           array(select id from zones where id <> 'lingang' order by row_id) as zones
)
select g as n,
       'bench-firm-' || lpad(g::text, 7, '0') as id,
       w.adjectives[1 + g % 50] || ' ' || w.nouns[1 + (g / 50) % 40] || ' ' || g as name,
       -- lingang for one firm in five, the other seeded zones for the rest
       case when g % 5 = 0 then 'lingang' else w.zones[1 + g % cardinality(w.zones)] end as zone_id,
       'A synthetic firm for load tests that works on ' || w.topics[1 + g % 50] || ' and ' || w.topics[1 + (g * 7) % 50] || '.' as description
from generate_series(1, :firms) g, w;

insert into firms (id, name, zone_id, description, version, created_at, updated_at, search)
select id, name, zone_id, description, 1, '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z',
       setweight(to_tsvector('simple', lower(name)), 'A')
       || setweight(to_tsvector('simple', lower(description || ' Shanghai is now home to 45 national research labs and various industrial zones.')), 'B')
from synthetic order by n;

-- one industry each, and a second for every other firm
with i as (select array(select id from industries order by row_id) as ids)
insert into firm_industries (firm_id, industry_id)
select s.id, i.ids[1 + s.n % cardinality(i.ids)] from synthetic s, i
union
select s.id, i.ids[1 + (s.n / 2) % cardinality(i.ids)] from synthetic s, i where s.n % 2 = 0;

insert into citations (resource, record_id, position, source_id, quote)
select 'firms', id, 0, 'shanghai-digital-hub', 'Shanghai is now home to 45 national research labs and various industrial zones.' from synthetic;

insert into changes (resource, record_id, op, version, at)
select 'firms', id, 'created', 1, '2025-01-01T00:00:00.000Z' from synthetic order by n;

commit;
analyze;
