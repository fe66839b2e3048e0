-- pgbench script: one firm by id, at random among the generated ones, from HubApi's own schema (its columns, its index):
-- the floor of a PostgreSQL-backed get-by-id. pgbench -n -M prepared -D firms=N -f bench/postgres/select-firm.sql
\set n random(1, :firms)
select id, name, zone_id, description, version, created_at, updated_at from firms where id = 'bench-firm-' || lpad(:n::text, 7, '0');
