<?php
// PHP's odbc extension and PDO_ODBC through odbc-dm's libodbc.so.2 (capi/tests/php.rs).
// Usage: php php_workload.php <kind> <connection string or DSN> <table prefix>
// kind: sqlite | pg | maria | ref (column types differ a little). Prints "OK <what>" per
// check, "FAIL <what>: <detail>" and exits 1 at the first failure, "ALL OK" at the end.
error_reporting(E_ALL & ~E_WARNING);
[$_, $kind, $cs, $prefix] = $argv;
$t = $prefix . "_t";
$b = $prefix . "_b";

function ok($what, $cond, $detail = '') {
    if (!$cond) { echo "FAIL $what: $detail\n"; exit(1); }
    echo "OK $what\n";
}
function state_of($c) { return odbc_error($c) . " " . odbc_errormsg($c); }

// ---------------------------------------------------------------- the odbc extension
$c = odbc_connect($cs, '', '');
ok("odbc_connect", $c !== false, odbc_error() . " " . odbc_errormsg());
@odbc_exec($c, "DROP TABLE $t");
@odbc_exec($c, "DROP TABLE $b");
$dec = $kind === 'pg' || $kind === 'maria' ? "DECIMAL(10,2)" : "REAL";
ok("create", odbc_exec($c, "CREATE TABLE $t (id INTEGER, name VARCHAR(50), price $dec, d DATE)") !== false, state_of($c));

// Prepared INSERT: SQLPrepare, SQLNumParams, SQLDescribeParam, SQLBindParameter, SQLExecute.
$st = odbc_prepare($c, "INSERT INTO $t (id, name, price, d) VALUES (?, ?, ?, ?)");
ok("odbc_prepare", $st !== false, state_of($c));
$names = [1 => "plain", 2 => "é à ü", 3 => "日本語", 4 => "emoji 😀", 5 => "x"];
foreach ($names as $i => $n) {
    ok("odbc_execute $i", odbc_execute($st, [$i, $n, "$i.25", "2024-01-0$i"]), state_of($c));
}
odbc_free_result($st);

// Result set: SQLExecDirect, SQLNumResultCols, SQLColAttribute, SQLBindCol, fetch
// (SQLExtendedFetch where the driver reports absolute fetches: PHP asks SQL_FETCH_DIRECTION).
$r = odbc_exec($c, "SELECT id, name, price, d FROM $t ORDER BY id");
ok("select", $r !== false, state_of($c));
ok("odbc_num_fields", odbc_num_fields($r) === 4, odbc_num_fields($r));
ok("odbc_field_name", strtolower(odbc_field_name($r, 2)) === 'name', odbc_field_name($r, 2));
$rows = [];
while ($row = odbc_fetch_array($r)) { $rows[] = $row; }
ok("odbc_fetch_array count", count($rows) === 5, json_encode($rows));
foreach ($names as $i => $n) {
    $row = $rows[$i - 1];
    ok("row $i", (int)$row['id'] === $i && $row['name'] === $n && abs((float)$row['price'] - ($i + 0.25)) < 1e-9,
       json_encode($row, JSON_UNESCAPED_UNICODE));
}
odbc_free_result($r);
$r = odbc_exec($c, "SELECT id, name FROM $t ORDER BY id");
$n = 0; $last = null;
while (odbc_fetch_row($r)) { $n++; $last = odbc_result($r, 'name'); }
ok("odbc_fetch_row/odbc_result", $n === 5 && $last === "x", "$n " . var_export($last, true));
if ($kind !== 'maria') {
    // SQLExtendedFetch(SQL_FETCH_ABSOLUTE, 3). MariaDB's driver reports no absolute
    // fetches (SQL_FETCH_DIRECTION), and PHP then ignores the row number.
    $r = odbc_exec($c, "SELECT id FROM $t ORDER BY id");
    ok("odbc_fetch_row(3) absolute", odbc_fetch_row($r, 3) && (int)odbc_result($r, 1) === 3, state_of($c));
}

// Row count, transactions.
$r = odbc_exec($c, "UPDATE $t SET price = price + 1 WHERE id > 2");
ok("odbc_num_rows after UPDATE", odbc_num_rows($r) === 3, odbc_num_rows($r));
ok("autocommit off", odbc_autocommit($c, false));
odbc_exec($c, "DELETE FROM $t WHERE id = 1");
ok("odbc_rollback", odbc_rollback($c), state_of($c));
$r = odbc_exec($c, "SELECT COUNT(*) FROM $t"); odbc_fetch_row($r);
ok("rolled back", (int)odbc_result($r, 1) === 5, odbc_result($r, 1));
odbc_exec($c, "DELETE FROM $t WHERE id = 5");
ok("odbc_commit", odbc_commit($c), state_of($c));
ok("autocommit on", odbc_autocommit($c, true));
$r = odbc_exec($c, "SELECT COUNT(*) FROM $t"); odbc_fetch_row($r);
ok("committed", (int)odbc_result($r, 1) === 4, odbc_result($r, 1));

// NULL through a parameter and back.
$st = odbc_prepare($c, "INSERT INTO $t (id, name) VALUES (?, ?)");
ok("NULL parameter", odbc_execute($st, [9, null]), state_of($c));
$r = odbc_exec($c, "SELECT name FROM $t WHERE id = 9"); odbc_fetch_row($r);
ok("NULL back", odbc_result($r, 1) === null, var_export(odbc_result($r, 1), true));

// Catalog functions.
$found = false;
$tb = odbc_tables($c, null, null, "%", "TABLE");
ok("odbc_tables", $tb !== false, state_of($c));
while ($row = odbc_fetch_array($tb)) { if (strcasecmp($row['TABLE_NAME'], $t) === 0) $found = true; }
ok("odbc_tables lists the table", $found);
$cols = odbc_columns($c, null, null, $t);
$cn = []; while ($cols && ($row = odbc_fetch_array($cols))) { $cn[] = strtolower($row['COLUMN_NAME']); }
ok("odbc_columns", $cn === ['id', 'name', 'price', 'd'], json_encode($cn));
$ti = odbc_gettypeinfo($c);
$tn = 0; while ($ti && odbc_fetch_row($ti)) { $tn++; }
ok("odbc_gettypeinfo", $tn > 0, state_of($c));

// A driver error keeps its SQLSTATE and message.
$r = odbc_exec($c, "SELECT * FROM {$prefix}_no_such_table");
ok("error", $r === false && strlen(odbc_error($c)) === 5 && odbc_errormsg($c) !== '', state_of($c));

// A long text value (over one SQLGetData buffer for the drivers that report a long type).
$long = $kind === 'pg' ? "TEXT" : ($kind === 'maria' ? "LONGTEXT" : "VARCHAR(200000)");
ok("create long", odbc_exec($c, "CREATE TABLE $b (t $long)") !== false, state_of($c));
$big = str_repeat("αβγ-", 10000);
$st = odbc_prepare($c, "INSERT INTO $b (t) VALUES (?)");
ok("insert long", odbc_execute($st, [$big]), state_of($c));
$r = odbc_exec($c, "SELECT t FROM $b");
odbc_longreadlen($r, 1000000);
odbc_fetch_row($r);
$got = odbc_result($r, 1);
ok("long value back", $got === $big, strlen((string)$got) . " bytes of " . strlen($big));

// The DM's own function: SQLDataSources over the odbc.ini of ODBCINI.
$ds = odbc_data_source($c, SQL_FETCH_FIRST); $dsns = [];
while ($ds) { $dsns[] = $ds['server']; $ds = odbc_data_source($c, SQL_FETCH_NEXT); }
ok("odbc_data_source", in_array('sqlite-test', $dsns, true) && in_array('pg-test', $dsns, true), json_encode($dsns));
odbc_close($c);

// ---------------------------------------------------------------- PDO_ODBC
$pdo = new PDO("odbc:$cs", '', '', [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
$s = $pdo->prepare("SELECT id, name FROM $t WHERE id > ? AND id < ? ORDER BY id");
$s->execute([1, 5]);
$rows = $s->fetchAll(PDO::FETCH_ASSOC);
ok("PDO fetchAll", count($rows) === 3 && $rows[1]['name'] === "日本語", json_encode($rows, JSON_UNESCAPED_UNICODE));
$pdo->beginTransaction();
$pdo->exec("DELETE FROM $t");
$pdo->rollBack();
ok("PDO rollBack", (int)$pdo->query("SELECT COUNT(*) FROM $t")->fetchColumn() === 5);
$s = $pdo->prepare("INSERT INTO $t (id, name) VALUES (:id, :n)");
$s->bindValue(':id', 10, PDO::PARAM_INT);
$s->bindValue(':n', "named ✓", PDO::PARAM_STR);
ok("PDO named parameters", $s->execute());
ok("PDO value back", $pdo->query("SELECT name FROM $t WHERE id = 10")->fetchColumn() === "named ✓");
$s = $pdo->query("SELECT t FROM $b");
ok("PDO long value", $s->fetchColumn() === $big);
try {
    $pdo->query("SELECT * FROM {$prefix}_no_such_table");
    ok("PDO error", false, "no exception");
} catch (PDOException $e) {
    ok("PDO error", strlen((string)$e->getCode()) === 5, $e->getCode() . " " . $e->getMessage());
}
$s = null;
$pdo->exec("DROP TABLE $t");
$pdo->exec("DROP TABLE $b");
echo "ALL OK\n";
