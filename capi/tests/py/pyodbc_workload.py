"""A realistic pyodbc workload, run through whatever libodbc.so.2 the loader finds first
(capi/tests/pyodbc.rs puts odbc-dm's first on LD_LIBRARY_PATH).

usage: pyodbc_workload.py KIND CONNECTION_STRING TABLE
KIND: sqlite | pg  (SQL dialect and which checks apply)

Prints "OK <check>" per check and "ALL OK" at the end; any failure raises (non-zero exit).
"""
import datetime
import decimal
import sys
import threading
import time

import pyodbc

kind, conn_str, table = sys.argv[1], sys.argv[2], sys.argv[3]


def ok(what):
    print("OK", what, flush=True)


cn = pyodbc.connect(conn_str, autocommit=False, timeout=10)
# pyodbc's defaults: str parameters as SQL_C_WCHAR (UTF-16), results decoded by the driver's
# SQL_C_WCHAR. Keep them: that is what almost every pyodbc application does.
cur = cn.cursor()

if kind == "pg":
    ddl = (f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, small SMALLINT, big BIGINT, "
           "real_v DOUBLE PRECISION, dec_v NUMERIC(12,3), name VARCHAR(60), note TEXT, "
           "day DATE, at TIMESTAMP, raw BYTEA, flag BOOLEAN)")
    drop = f"DROP TABLE IF EXISTS {table}"
else:
    ddl = (f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, small SMALLINT, big BIGINT, "
           "real_v DOUBLE, dec_v NUMERIC(12,3), name VARCHAR(60), note TEXT, "
           "day DATE, at TIMESTAMP, raw BLOB, flag BOOLEAN)")
    drop = f"DROP TABLE IF EXISTS {table}"
cur.execute(drop)
cur.execute(ddl)
cn.commit()
ok("create")

rows = [
    (1, 7, 2**40, 3.25, decimal.Decimal("1234.500"), "plain ascii", "x" * 3000,
     datetime.date(2024, 2, 29), datetime.datetime(2024, 2, 29, 13, 14, 15), b"\x00\x01\xfe\xff", True),
    (2, -7, -(2**40), -0.5, decimal.Decimal("-0.125"), "Grüße ☃ 𝄞 中文", "ünïcödé " * 100,
     datetime.date(1999, 12, 31), datetime.datetime(1999, 12, 31, 23, 59, 59), bytes(range(256)), False),
    (3, None, None, None, None, None, None, None, None, None, None),
]
cur.fast_executemany = False
cur.executemany(f"INSERT INTO {table} VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
cn.commit()
ok("executemany")

# fast_executemany: one execution of a row-wise parameter array (SQL_ATTR_PARAM_BIND_TYPE
# = pyodbc's row size, addresses near null plus SQL_ATTR_PARAM_BIND_OFFSET_PTR), str as
# SQL_C_WCHAR: on the ANSI-only drivers (psqlodbca, libsqlite3odbc) the DM converts the
# array (decision #142); libsqlite3odbc ignores the bind offset (under unixODBC: SIGSEGV),
# so the DM applies it (decision #143).
fem = f"{table}_fem"
cur.execute(f"DROP TABLE IF EXISTS {fem}")
cur.execute(f"CREATE TABLE {fem} (id INTEGER, name VARCHAR(60))")
fem_rows = [(i, ("Grüße ☃ 𝄞 中文 %d" % i) if i % 5 else None) for i in range(200)]
cur.fast_executemany = True
cur.executemany(f"INSERT INTO {fem} VALUES (?, ?)", fem_rows)
cur.fast_executemany = False
cn.commit()
got = [tuple(r) for r in cur.execute(f"SELECT id, name FROM {fem} ORDER BY id").fetchall()]
assert got == fem_rows, (got[:3], fem_rows[:3])
cur.execute(f"DROP TABLE {fem}")
cn.commit()
ok("fast_executemany")

cur.execute(f"SELECT id, small, big, real_v, dec_v, name, note, day, at, raw, flag FROM {table} ORDER BY id")
names = [d[0].lower() for d in cur.description]
assert names == ["id", "small", "big", "real_v", "dec_v", "name", "note", "day", "at", "raw", "flag"], names
ok("description")
got = cur.fetchall()
assert len(got) == 3, got
for want, row in zip(rows, got):
    (id_, small, big, real_v, dec_v, name, note, day, at, raw, flag) = row
    assert id_ == want[0], (id_, want)
    assert small == want[1], (small, want[1])
    assert (big is None and want[2] is None) or int(big) == want[2], (big, want[2])
    assert (real_v is None and want[3] is None) or float(real_v) == want[3], (real_v, want[3])
    assert (dec_v is None and want[4] is None) or decimal.Decimal(str(dec_v)) == want[4], (dec_v, want[4])
    assert name == want[5], (name, want[5])
    assert note == want[6], (note[:40] if note else note, want[6][:40] if want[6] else None)
    if want[7] is None:
        assert day is None
    else:
        assert str(day)[:10] == want[7].isoformat(), (day, want[7])
    if want[8] is None:
        assert at is None
    else:
        assert str(at)[:19] == want[8].isoformat(sep=" "), (at, want[8])
    assert (raw is None and want[9] is None) or bytes(raw) == want[9], (raw, want[9])
    if want[10] is None:
        assert flag is None
    else:
        assert bool(int(flag)) == want[10], (flag, want[10])
ok("types and NULLs round-trip")

# Parameters in a WHERE clause, wide text included.
cur.execute(f"SELECT id FROM {table} WHERE name = ?", "Grüße ☃ 𝄞 中文")
assert cur.fetchone()[0] == 2
cur.execute(f"SELECT COUNT(*) FROM {table} WHERE name IS NULL")
assert cur.fetchval() == 1
ok("wide parameter in WHERE")

# Transactions: rollback drops the row, commit keeps it.
cur.execute(f"INSERT INTO {table} (id, name) VALUES (?, ?)", 10, "rolled back")
cn.rollback()
cur.execute(f"SELECT COUNT(*) FROM {table} WHERE id = 10")
assert cur.fetchval() == 0
cur.execute(f"INSERT INTO {table} (id, name) VALUES (?, ?)", 11, "committed")
cn.commit()
cur.execute(f"SELECT name FROM {table} WHERE id = 11")
assert cur.fetchval() == "committed"
ok("transactions")

# rowcount of an UPDATE.
cur.execute(f"UPDATE {table} SET small = small + 1 WHERE id IN (1, 2)")
assert cur.rowcount == 2, cur.rowcount
cn.commit()
ok("rowcount")

# Errors map to the right Python exceptions.
try:
    cur.execute("SELECT * FROM no_such_table_pyodbc_odbc_dm")
    raise AssertionError("no error for a missing table")
except pyodbc.ProgrammingError as e:
    print("  missing table:", e.args[0], flush=True)
except pyodbc.Error as e:
    # SQLite's driver reports a missing table as HY000 (a general error).
    assert kind == "sqlite", repr(e)
    print("  missing table (sqlite):", e.args[0], flush=True)
cn.rollback()
try:
    cur.execute(f"INSERT INTO {table} (id) VALUES (1)")
    raise AssertionError("no error for a duplicate key")
except pyodbc.IntegrityError as e:
    print("  duplicate key:", e.args[0], flush=True)
except pyodbc.Error as e:
    assert kind == "sqlite", repr(e)
    print("  duplicate key (sqlite):", e.args[0], flush=True)
cn.rollback()
ok("errors to exceptions")

# Catalog function through pyodbc (SQLTables / SQLColumns, W forms).
cols = [c.column_name.lower() for c in cur.columns(table=table)]
assert "name" in cols and "raw" in cols, cols
ok("catalog")

# Cross-thread cancel: a long query on one thread, cursor.cancel() from another.
if kind == "pg":
    cn.autocommit = True
    c2 = cn.cursor()
    outcome = {}

    def run():
        t0 = time.monotonic()
        try:
            c2.execute("SELECT pg_sleep(30)")
            outcome["result"] = "finished"
        except pyodbc.Error as e:
            outcome["result"] = "error"
            outcome["state"] = e.args[0]
        outcome["secs"] = time.monotonic() - t0

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.5)
    c2.cancel()
    t.join(20)
    assert not t.is_alive(), "the cancelled query did not return within 20 s"
    assert outcome.get("result") == "error", outcome
    assert outcome["secs"] < 15, outcome
    print("  cancel:", outcome, flush=True)
    ok("cross-thread cancel")

cur.execute(drop)
cn.commit()
cn.close()
print("ALL OK", flush=True)
