-- Built-in statements of the `kingbase` dialect (KingbaseES V8, PostgreSQL-derived), used by
-- `postgres` with `dialect: kingbase` and by `odbc` with `dialect: kingbase`.
-- The statements of postgres.sql with the catalog views and functions under KingbaseES's
-- `sys_` prefix. Written from KingbaseES documentation and NOT run against a live server:
-- a site may copy this file to its `sql_dir` and adjust a statement, keeping its name and
-- the names of the columns it returns. Columns must match postgres.sql.

-- name: server
SELECT current_setting('server_version') AS version,
       current_setting('server_version_num')::int AS version_num,
       sys_is_in_recovery() AS in_recovery

-- name: activity
-- Connections count client backends only; max_connections also covers them (background
-- workers and WAL senders have their own limits).
SELECT (SELECT count(*) FROM sys_stat_activity WHERE backend_type = 'client backend') AS connections,
       current_setting('max_connections')::int AS max_connections,
       (SELECT count(*) FROM sys_stat_activity
         WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')) AS idle_in_transaction,
       (SELECT count(*) FROM sys_locks WHERE NOT granted) AS waiting_locks

-- name: long_queries
-- Every running statement but our own, longest first; the check counts those over its
-- threshold and keeps a few as samples.
SELECT pid, usename AS "user", datname AS database,
       EXTRACT(EPOCH FROM (clock_timestamp() - query_start))::float8 AS seconds,
       left(query, 200) AS query
  FROM sys_stat_activity
 WHERE state = 'active' AND backend_type = 'client backend'
   AND pid <> sys_backend_pid() AND query_start IS NOT NULL
 ORDER BY query_start
 LIMIT 1000

-- name: databases
SELECT d.datname AS database,
       sys_database_size(d.oid)::bigint AS size_bytes,
       age(d.datfrozenxid)::bigint AS xid_age,
       s.blks_hit, s.blks_read, s.deadlocks, s.xact_rollback AS rollbacks
  FROM sys_database d LEFT JOIN sys_stat_database s ON s.datid = d.oid
 WHERE d.datallowconn
 ORDER BY d.datname

-- name: replication
-- On a primary: one row per connected standby.
SELECT application_name AS standby, client_addr::text AS address, state, sync_state,
       sys_wal_lsn_diff(sys_current_wal_lsn(), replay_lsn)::bigint AS lag_bytes,
       EXTRACT(EPOCH FROM replay_lag)::float8 AS lag_seconds
  FROM sys_stat_replication
 ORDER BY application_name

-- name: standby
-- On a standby: how far replay is behind. When everything received is replayed the delay
-- is 0 even if the primary has been idle for a long time; NULL while behind but no
-- transaction was replayed since the standby started (the byte lag still shows).
SELECT CASE WHEN sys_last_wal_receive_lsn() IS NOT DISTINCT FROM sys_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM (clock_timestamp() - sys_last_xact_replay_timestamp()))
       END::float8 AS replay_delay_seconds,
       COALESCE(sys_wal_lsn_diff(sys_last_wal_receive_lsn(), sys_last_wal_replay_lsn()), 0)::bigint
         AS replay_lag_bytes,
       sys_is_wal_replay_paused() AS replay_paused

-- name: tablespaces
SELECT spcname AS tablespace, sys_tablespace_size(oid)::bigint AS size_bytes
  FROM sys_tablespace
 ORDER BY spcname
