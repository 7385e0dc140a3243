package sqlstore

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzDecodePermissions: decodePermissions returns what encoding/json
// returns, error or not, for any text; the seeds cover the hand-read form
// and the edges where it must hand over.
func FuzzDecodePermissions(f *testing.F) {
	for _, s := range []string{
		`null`, `{}`, `{"files":["read"]}`, `{"files":["read","write"],"projects":[]}`, `{"a":[]}`,
		`{"a":null}`, `{"a":["x"],}`, `{"a":["x""y"]}`, `{"a":["x",]}`, `{"a":["x"],"a":["y"]}`,
		`{"a": ["x"]}`, `{"\u0061":["x"]}`, `{"a":["é"]}`, `{"a":["x"]`, `{"a":[1]}`, `[]`, ``, `{,}`, `{"a":["x"]}x`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := decodePermissions([]byte(s))
		var want map[string][]string
		wantErr := json.Unmarshal([]byte(s), &want)
		if wantErr != nil {
			require.Error(t, err, "%q", s)
			return
		}
		require.NoError(t, err, "%q", s)
		assert.Equal(t, want == nil, got == nil, "%q: nil", s)
		require.Equal(t, len(want), len(got), "%q", s)
		for k, v := range want {
			g, ok := got[k]
			require.True(t, ok, "%q: %s", s, k)
			assert.Equal(t, v == nil, g == nil, "%q: %s nil", s, k)
			assert.Equal(t, len(v), len(g), "%q: %s", s, k)
			if len(v) > 0 {
				assert.Equal(t, v, []string(g), "%q: %s", s, k)
			}
		}
	})
}

func TestQuickPermissionsTakesTheUsualForm(t *testing.T) {
	for _, s := range []string{`null`, `{}`, `{"files":["read","write"],"projects":["read"]}`, `{"a":[]}`} {
		_, ok := quickPermissions(s)
		assert.True(t, ok, s)
	}
}
