package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/testenv"
)

// A mysql:// URL is parsed, not appended to: parseTime=false and any loc
// are overridden (parseTime=true, loc=UTC: the tool reads every time in
// UTC, as the store writes them), every other parameter kept. Before,
// "parseTime=false" was kept as given, and with a '?' in the password the
// appended "&parseTime=true" landed in the database's name.
func TestAttackMySQLDSN(t *testing.T) {
	for dsn, want := range map[string]mysql.Config{
		"mysql://root@tcp(db:3306)/app?parseTime=false":                      {User: "root", Addr: "db:3306", DBName: "app"},
		"mysql://root@tcp(db:3306)/app?loc=Local&parseTime=false&timeout=5s": {User: "root", Addr: "db:3306", DBName: "app", Timeout: 5 * time.Second},
		"mysql://ops:pa?ss@tcp(db:3306)/app":                                 {User: "ops", Passwd: "pa?ss", Addr: "db:3306", DBName: "app"},
		"mysql://ops:p&x=1@tcp(db:3306)/app?parseTime=0":                     {User: "ops", Passwd: "p&x=1", Addr: "db:3306", DBName: "app"},
	} {
		driver, source, _, err := driverFor(dsn)
		require.NoError(t, err, dsn)
		assert.Equal(t, "mysql", driver)
		cfg, err := mysql.ParseDSN(source)
		require.NoError(t, err, dsn)
		assert.True(t, cfg.ParseTime, dsn)
		assert.Equal(t, time.UTC, cfg.Loc, dsn)
		assert.Equal(t, []string{want.User, want.Passwd, want.Addr, want.DBName}, []string{cfg.User, cfg.Passwd, cfg.Addr, cfg.DBName}, dsn)
		assert.Equal(t, want.Timeout, cfg.Timeout, dsn)
	}
	_, _, _, err := driverFor("mysql://root@tcp(db:3306)/app?parseTime=maybe")
	var ue usageError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.Error(), "mysql:// URL")
}

// Held (also before the DSN was parsed: the store reads DATETIME text as
// UTC whatever parseTime says): with parseTime=false and loc=Local in
// DATABASE_URL, every command reads times right on MySQL: a key's times,
// which keys are live, what prune deletes by the database's clock.
func TestAttackMySQLParseTimeFalse(t *testing.T) {
	w := backends(t)["MySQL"](t)
	dsn := strings.Replace(mysqlURL, "parseTime=true", "parseTime=false&loc=Local", 1)
	if dsn == mysqlURL {
		testenv.Unavailable(t, "MySQL", "KEYCAP_MYSQL_DSN has no parseTime=true to replace")
	}
	w.dsn = dsn
	wallNow := time.Now().UTC().Truncate(time.Millisecond)
	*w.clock = wallNow.Add(-3 * time.Hour)
	old, _ := w.create(t, "alice", "expired 2 hours ago", time.Hour)
	*w.clock = wallNow
	live, _ := w.create(t, "alice", "live", time.Hour)

	out, errOut, code := w.cli(t, "", "-json", "keys", "show", live.ID)
	require.Equal(t, exitOK, code, errOut)
	var j keyJSON
	require.NoError(t, json.Unmarshal([]byte(out), &j))
	assert.Equal(t, "active", j.Status)
	assert.True(t, wallNow.Equal(j.CreatedAt), "created %s, want %s", j.CreatedAt, wallNow)
	require.NotNil(t, j.ExpiresAt)
	assert.True(t, wallNow.Add(time.Hour).Equal(*j.ExpiresAt))

	out, errOut, code = w.cli(t, "", "-json", "prune", "-expired-older-than", "1h")
	require.Equal(t, exitOK, code, errOut)
	assert.JSONEq(t, `{"pruned": 1}`, out)
	_, errOut, code = w.cli(t, "", "keys", "show", old.ID)
	assert.Equal(t, exitNotFound, code, errOut)
}
