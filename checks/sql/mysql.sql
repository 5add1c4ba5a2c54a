-- Built-in statements of the `mysql` check (MySQL 5.7 / 8.x and MariaDB 10.x / 11.x).
-- Compiled into the agent; a site may copy this file to its `sql_dir` and change a
-- statement, keeping its name and the names of the columns it returns.
-- Privileges: PROCESS, REPLICATION CLIENT or REPLICA MONITOR, SHOW VIEW (see docs/checks.md).

-- name: status
SHOW GLOBAL STATUS WHERE Variable_name IN
  ('Threads_connected', 'Threads_running', 'Slow_queries', 'Aborted_connects',
   'Innodb_buffer_pool_read_requests', 'Innodb_buffer_pool_reads', 'Uptime',
   'Max_used_connections')

-- name: variables
SHOW GLOBAL VARIABLES WHERE Variable_name IN ('max_connections', 'version', 'read_only')

-- name: schemas
-- Sizes of InnoDB tables come from the table statistics, which the server refreshes in the
-- background after about 10% of a table changed (or on ANALYZE TABLE).
SELECT table_schema AS schema_name, COALESCE(SUM(data_length + index_length), 0) AS size_bytes
  FROM information_schema.TABLES
 WHERE table_schema NOT IN ('information_schema', 'performance_schema', 'sys', 'mysql')
 GROUP BY table_schema
 ORDER BY table_schema

-- name: processlist
-- Running statements of other sessions, longest first (TIME is whole seconds).
SELECT ID AS id, USER AS user, DB AS db, TIME AS seconds, LEFT(INFO, 200) AS query
  FROM information_schema.PROCESSLIST
 WHERE COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump', 'Binlog Dump GTID')
   AND USER NOT IN ('system user', 'event_scheduler')
   AND ID <> CONNECTION_ID() AND INFO IS NOT NULL
 ORDER BY TIME DESC
 LIMIT 1000

-- name: replica
-- MySQL 8.0.22+ and MariaDB 10.5.1+; the check falls back to replica_legacy when it fails.
SHOW REPLICA STATUS

-- name: replica_legacy
SHOW SLAVE STATUS
