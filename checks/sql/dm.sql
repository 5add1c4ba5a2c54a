-- Built-in statements of the `odbc` check with `dialect: dm` (DM 达梦 7 / 8).
-- Written from DM's documentation (dynamic views V$INSTANCE, V$SESSIONS, V$DM_INI and the
-- dictionary views DBA_DATA_FILES, DBA_FREE_SPACE) and NOT run against a live DM server.
-- A site may copy this file to its `sql_dir` and adjust a statement, keeping its name and
-- the names of the columns it returns.

-- name: instance
-- STATUS$ is OPEN when the database serves; MODE$ is PRIMARY, STANDBY or NORMAL.
SELECT INSTANCE_NAME AS instance_name, STATUS$ AS status, MODE$ AS role,
       SVR_VERSION AS version
  FROM V$INSTANCE

-- name: sessions
SELECT (SELECT COUNT(*) FROM V$SESSIONS) AS sessions,
       (SELECT CAST(PARA_VALUE AS BIGINT) FROM V$DM_INI WHERE PARA_NAME = 'MAX_SESSIONS')
         AS max_sessions
  FROM DUAL

-- name: tablespaces
-- Used = allocated - free; the limit counts how far auto-extending files may grow.
SELECT f.TABLESPACE_NAME AS tablespace,
       f.allocated - COALESCE(s.free, 0) AS used_bytes,
       f.max_bytes AS max_bytes
  FROM (SELECT TABLESPACE_NAME, SUM(BYTES) AS allocated,
               SUM(CASE WHEN AUTOEXTENSIBLE = 'YES' AND MAXBYTES > BYTES THEN MAXBYTES
                        ELSE BYTES END) AS max_bytes
          FROM DBA_DATA_FILES GROUP BY TABLESPACE_NAME) f
  LEFT JOIN (SELECT TABLESPACE_NAME, SUM(BYTES) AS free
               FROM DBA_FREE_SPACE GROUP BY TABLESPACE_NAME) s
    ON s.TABLESPACE_NAME = f.TABLESPACE_NAME
 ORDER BY f.TABLESPACE_NAME
