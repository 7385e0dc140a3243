package sqlstore

import (
	"context"
	"strings"

	"github.com/keycaphq/keycap/keys"
)

// v3Columns is how many columns the keys table had at schema version 3.
const v3Columns = 29

// InsertV3 stores k as a release at schema version 3 did: without the
// columns of 0005 (secret_id, allowed_ips).
func (s *Store) InsertV3(ctx context.Context, k *keys.Key) error {
	args, err := s.args(k)
	if err != nil {
		return err
	}
	cols := strings.Join(columns[:v3Columns], ", ")
	marks := strings.TrimSuffix(strings.Repeat("?, ", v3Columns), ", ")
	_, err = s.db.ExecContext(ctx, rebind(s.dialect, "INSERT INTO "+s.table+" ("+cols+") VALUES ("+marks+")"), args[:v3Columns]...)
	return err
}
