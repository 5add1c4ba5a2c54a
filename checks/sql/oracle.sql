-- Built-in statements of the `odbc` check with `dialect: oracle` (Oracle 11g and later).
-- Written from Oracle's documentation (V$INSTANCE, V$DATABASE, V$SESSION, V$PARAMETER,
-- DBA_DATA_FILES, DBA_FREE_SPACE) and NOT run against a live Oracle server.
-- A site may copy this file to its `sql_dir` and adjust a statement, keeping its name and
-- the names of the columns it returns. No statement ends in ';': Oracle rejects that.

-- name: instance
-- STATUS is OPEN when the database serves (MOUNTED / STARTED otherwise).
SELECT i.INSTANCE_NAME AS instance_name, i.STATUS AS status, d.DATABASE_ROLE AS role,
       i.VERSION AS version
  FROM V$INSTANCE i CROSS JOIN V$DATABASE d

-- name: sessions
SELECT (SELECT COUNT(*) FROM V$SESSION) AS sessions,
       (SELECT TO_NUMBER(VALUE) FROM V$PARAMETER WHERE NAME = 'sessions') AS max_sessions
  FROM DUAL

-- name: tablespaces
-- Permanent tablespaces; used = allocated - free, the limit counts auto-extension up to
-- MAXBYTES.
SELECT f.TABLESPACE_NAME AS tablespace,
       f.allocated - NVL(s.free, 0) AS used_bytes,
       f.max_bytes AS max_bytes
  FROM (SELECT TABLESPACE_NAME, SUM(BYTES) AS allocated,
               SUM(CASE WHEN AUTOEXTENSIBLE = 'YES' AND MAXBYTES > BYTES THEN MAXBYTES
                        ELSE BYTES END) AS max_bytes
          FROM DBA_DATA_FILES GROUP BY TABLESPACE_NAME) f
  LEFT JOIN (SELECT TABLESPACE_NAME, SUM(BYTES) AS free
               FROM DBA_FREE_SPACE GROUP BY TABLESPACE_NAME) s
    ON s.TABLESPACE_NAME = f.TABLESPACE_NAME
 ORDER BY f.TABLESPACE_NAME
