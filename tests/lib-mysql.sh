# shellcheck shell=bash
# A private MariaDB server for the tests, as Portus runs it by default
# (Debian's mariadb-server; Portus's docker-compose runs library/mariadb).
# Source it after lib.sh:
#   . "$(dirname "$0")/lib-mysql.sh"
#
# my_start makes a data directory in $T, starts mariadbd as the mysql user
# on a free port of 127.0.0.1 and a socket file in $T, and creates database
# portus_test (owned by user portus, password $MY_PASSWORD, which may also
# create databases) holding Portus's schema_migrations and registries
# tables.  The server is stopped by pid when the script exits.

MY_PASSWORD=${MY_PASSWORD:-portus-Maria-pw9}

# my_sql DB SQL: run SQL as root over the socket; print the rows, tab-separated.
my_sql() {
  mariadb --no-defaults -S "$MY_SOCK" -uroot -N -B ${1:+"$1"} -e "$2"
}

# my_connections: the server's Connections counter (connection attempts
# since start, this query's own included).
my_connections() { my_sql "" "SHOW GLOBAL STATUS LIKE 'Connections'" | awk '{print $2}'; }

# my_start: a fresh server (see above); MY_PORT, MY_SOCK, MY_PID.
my_start() {
  MY_DATA=$T/mariadb
  MY_RUN=$T/mariadb-run
  MY_SOCK=$MY_RUN/mysqld.sock
  MY_PORT=$(free_port)
  export MY_DATA MY_RUN MY_SOCK MY_PORT MY_PASSWORD
  install -d -o mysql -g mysql -m 700 "$MY_DATA"
  install -d -o mysql -g mysql -m 755 "$MY_RUN"
  mariadb-install-db --no-defaults --user=mysql --datadir="$MY_DATA" \
    --auth-root-authentication-method=socket --skip-test-db >"$T/mariadb-install.log" 2>&1 ||
    die_log mariadb-install "mariadb-install-db failed"
  my_start_again
  my_sql "" "
    CREATE DATABASE portus_test;
    CREATE USER 'portus'@'%' IDENTIFIED BY '$MY_PASSWORD';
    CREATE USER 'portus'@'localhost' IDENTIFIED BY '$MY_PASSWORD';
    GRANT ALL ON *.* TO 'portus'@'%';
    GRANT ALL ON *.* TO 'portus'@'localhost';"
  my_sql portus_test "
    CREATE TABLE schema_migrations (version varchar(255) NOT NULL PRIMARY KEY);
    INSERT INTO schema_migrations VALUES ('20150101000000'), ('20160101000000'), ('20170101000000');
    CREATE TABLE registries (
      id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
      name varchar(255) NOT NULL,
      hostname varchar(255) NOT NULL,
      use_ssl tinyint(1) DEFAULT NULL,
      created_at datetime DEFAULT NULL,
      updated_at datetime DEFAULT NULL,
      external_hostname varchar(255) DEFAULT NULL
    ) DEFAULT CHARSET=utf8;"
}

# _my_up: the server answers on its socket.
_my_up() { mariadb --no-defaults -S "$MY_SOCK" -uroot -e 'SELECT 1' >/dev/null 2>&1; }

# my_start_again: start the server made by my_start (after my_stop or my_kill).
my_start_again() {
  rm -f "$MY_SOCK"
  spawn mariadb mariadbd --no-defaults --user=mysql --datadir="$MY_DATA" \
    --socket="$MY_SOCK" --port="$MY_PORT" --bind-address=127.0.0.1 \
    --skip-log-bin --innodb-buffer-pool-size=16M --log-error="$T/mariadb-error.log"
  MY_PID=$SPAWNED_PID
  export MY_PID
  _poll 60 "$MY_PID" _my_up || die_log mariadb-error "MariaDB did not start"
}

# my_stop: stop the server cleanly.
my_stop() { stop_pid "$MY_PID"; }

# my_kill: kill the server outright (a crash: kept connections just die).
my_kill() {
  kill -KILL "$MY_PID" 2>/dev/null || true
  wait "$MY_PID" 2>/dev/null || true
  _forget_pid "$MY_PID"
}

# my_exports: export Portus's database settings for this server, as
# Portus's own environment gives them (no PORTUS_DB_ADAPTER: mysql2).
my_exports() {
  unset PORTUS_DB_ADAPTER PORTUS_DB_SOCKET
  export PORTUS_DB_HOST=127.0.0.1 PORTUS_DB_PORT=$MY_PORT PORTUS_DB_USERNAME=portus \
    PORTUS_DB_PASSWORD=$MY_PASSWORD PORTUS_DB_DATABASE=portus_test
}
