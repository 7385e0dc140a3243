package ratelimit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/ratelimit"
)

func TestLimitValidate(t *testing.T) {
	tests := []struct {
		name  string
		limit ratelimit.Limit
		zero  bool
		want  string // in the error; "" for valid
	}{
		{"zero: no limit", ratelimit.Limit{}, true, ""},
		{"one per millisecond", ratelimit.Limit{Requests: 1, Window: time.Millisecond}, false, ""},
		{"600 a minute", ratelimit.Limit{Requests: 600, Window: time.Minute}, false, ""},
		{"a window and no requests", ratelimit.Limit{Window: time.Minute}, false, "Requests of at least 1"},
		{"negative requests", ratelimit.Limit{Requests: -1, Window: time.Second}, false, "Requests of at least 1"},
		{"negative requests, no window", ratelimit.Limit{Requests: -1}, false, "Requests of at least 1"},
		{"requests and no window", ratelimit.Limit{Requests: 1}, false, "Window of at least 1ms"},
		{"a window under 1ms", ratelimit.Limit{Requests: 1, Window: time.Microsecond}, false, "Window of at least 1ms"},
		{"a negative window", ratelimit.Limit{Requests: 1, Window: -time.Second}, false, "Window of at least 1ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.zero, tt.limit.IsZero())
			err := tt.limit.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "to set no limit, leave both Requests and Window 0")
		})
	}
}

// A set Limit of no requests that skipped Validate admits nothing: it is
// never read as no limit.
func TestMemoryFailsClosedOnNoRequests(t *testing.T) {
	m := ratelimit.NewMemory()
	b := ratelimit.Bucket{Name: "key:a", Limit: ratelimit.Limit{Window: time.Minute}}
	res, err := m.Allow(t.Context(), ratelimit.FixedWindow, t0, b)
	require.NoError(t, err)
	assert.False(t, res.Allowed)
}
