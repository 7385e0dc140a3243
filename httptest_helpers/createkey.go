package keycaptest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/policy"
)

// CreatedKey is the answer of POST /api-keys: the new key, shown once.
type CreatedKey struct {
	// ID names the key in /api-keys/{id}.
	ID string `json:"id"`
	// Key is the secret to send as "Authorization: Bearer" ([Client.WithKey]).
	Key string `json:"key"`
	// Hint is what may be shown again: prefix, id and last characters.
	Hint string `json:"hint"`
	// Permissions are those granted.
	Permissions policy.Permissions `json:"permissions"`
}

// CreateKey creates a key named name with perms through the app's keys
// handler at path (usually "/api-keys"), as c (logged in, or with a key
// when the app allows delegation), and requires a 201. nil perms sends no
// "permissions", leaving them to the app's policy.
func (c *Client) CreateKey(t testing.TB, path, name string, perms policy.Permissions) CreatedKey {
	t.Helper()
	body := map[string]any{"name": name}
	if perms != nil {
		body["permissions"] = perms
	}
	resp := c.DoJSON(t, http.MethodPost, path, body)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "create key: %s", resp.Body)
	var k CreatedKey
	resp.JSON(t, &k)
	require.NotEmpty(t, k.Key)
	return k
}
