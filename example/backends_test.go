package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/ratelimit"
)

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    ratelimit.Limit
		wantErr bool
	}{
		{"", ratelimit.Limit{}, false},
		{"600/1m", ratelimit.Limit{Requests: 600, Window: time.Minute}, false},
		{"10/1h30m", ratelimit.Limit{Requests: 10, Window: 90 * time.Minute}, false},
		{"600", ratelimit.Limit{}, true},
		{"0/1m", ratelimit.Limit{}, true},
		{"-1/1m", ratelimit.Limit{}, true},
		{"10/0s", ratelimit.Limit{}, true},
		{"ten/1m", ratelimit.Limit{}, true},
		{"10/minute", ratelimit.Limit{}, true},
	}
	for _, tt := range tests {
		got, err := parseRateLimit(tt.in)
		if tt.wantErr {
			assert.Error(t, err, "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

// TestSharedBackendsRefused checks the configurations refused at start,
// before anything is opened.
func TestSharedBackendsRefused(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		cfg  config
		want string
	}{
		{"Redis without a database", config{DBPath: "x.db", RedisURL: "redis://127.0.0.1:6379/0"}, "set DATABASE_URL too"},
		{"no shared secret", config{DatabaseURL: "postgres://127.0.0.1/test"}, "must share the server secret"},
		{"a short secret", config{DatabaseURL: "postgres://127.0.0.1/test", Secret: "abcd"}, "KEYCAP_SECRET"},
		{"not Postgres", config{DatabaseURL: "mysql://root@127.0.0.1/test", Secret: secret}, "want postgres://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newApp(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestSplitRoles(t *testing.T) {
	assert.Nil(t, splitRoles(""))
	assert.Nil(t, splitRoles(" , "))
	assert.Equal(t, []string{"viewer"}, splitRoles("viewer"))
	assert.Equal(t, []string{"member", "owner"}, splitRoles("member, owner"))
}

func TestListenAddr(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "127.0.0.1:8080"},
		{map[string]string{"PORT": "3000"}, ":3000"},
		{map[string]string{"ADDR": "127.0.0.1:9000", "PORT": "3000"}, "127.0.0.1:9000"},
		{map[string]string{"ADDR": "[::1]:8080"}, "[::1]:8080"},
	} {
		assert.Equal(t, tt.want, listenAddr(func(k string) string { return tt.env[k] }), "%v", tt.env)
	}
}
