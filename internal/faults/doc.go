// Package faults holds keycap's end-to-end fault tests and nothing else:
// the database or Redis goes away (a proxy from internal/faultproxy breaks,
// cuts or stalls the connections, or the store points at a closed port or
// a closed, read-only, removed or locked SQLite file) under a real test
// server, and the tests check that keycap answers 503 STORE_UNAVAILABLE with
// the cause logged, never panics, never stores half a key, never accepts a
// key it could not check, and recovers without a restart.
//
// Postgres, MySQL (or MariaDB) and Redis are found as the other tests find
// them (KEYCAP_POSTGRES_URL, KEYCAP_MYSQL_DSN, KEYCAP_REDIS_ADDR); a test
// whose service is down skips, or fails when KEYCAP_REQUIRE_SERVICES=1.
// Run them alone with go test ./internal/faults.
//
// The package is internal and exports nothing: it is not part of keycap's
// API, only a home for tests that span every layer (keys, the stores,
// middleware and a test server) and so belong to none of them.
package faults
