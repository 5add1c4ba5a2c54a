-- Built-in statements of the `postgres` check (PostgreSQL 10 and later).
-- Compiled into the agent; a site may copy this file to its `sql_dir` and change a
-- statement, keeping its name and the names of the columns it returns.
-- Privileges: the role needs pg_monitor (see docs/checks.md).

-- name: server
SELECT current_setting('server_version') AS version,
       current_setting('server_version_num')::int AS version_num,
       pg_is_in_recovery() AS in_recovery

-- name: activity
-- Connections count client backends only; max_connections also covers them (background
-- workers and WAL senders have their own limits).
SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS connections,
       current_setting('max_connections')::int AS max_connections,
       (SELECT count(*) FROM pg_stat_activity
         WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')) AS idle_in_transaction,
       (SELECT count(*) FROM pg_locks WHERE NOT granted) AS waiting_locks

-- name: long_queries
-- Every running statement but our own, longest first; the check counts those over its
-- threshold and keeps a few as samples.
SELECT pid, usename AS "user", datname AS database,
       EXTRACT(EPOCH FROM (clock_timestamp() - query_start))::float8 AS seconds,
       left(query, 200) AS query
  FROM pg_stat_activity
 WHERE state = 'active' AND backend_type = 'client backend'
   AND pid <> pg_backend_pid() AND query_start IS NOT NULL
 ORDER BY query_start
 LIMIT 1000

-- name: databases
SELECT d.datname AS database,
       pg_database_size(d.oid)::bigint AS size_bytes,
       age(d.datfrozenxid)::bigint AS xid_age,
       s.blks_hit, s.blks_read, s.deadlocks, s.xact_rollback AS rollbacks
  FROM pg_database d LEFT JOIN pg_stat_database s ON s.datid = d.oid
 WHERE d.datallowconn
 ORDER BY d.datname

-- name: replication
-- On a primary: one row per connected standby.
SELECT application_name AS standby, client_addr::text AS address, state, sync_state,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS lag_bytes,
       EXTRACT(EPOCH FROM replay_lag)::float8 AS lag_seconds
  FROM pg_stat_replication
 ORDER BY application_name

-- name: standby
-- On a standby: how far replay is behind. When everything received is replayed the delay
-- is 0 even if the primary has been idle for a long time; NULL while behind but no
-- transaction was replayed since the standby started (the byte lag still shows).
SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM (clock_timestamp() - pg_last_xact_replay_timestamp()))
       END::float8 AS replay_delay_seconds,
       COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::bigint
         AS replay_lag_bytes,
       pg_is_wal_replay_paused() AS replay_paused

-- name: tablespaces
SELECT spcname AS tablespace, pg_tablespace_size(oid)::bigint AS size_bytes
  FROM pg_tablespace
 ORDER BY spcname
