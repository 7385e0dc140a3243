package sqlstore

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestMySQLMigrationsSchemaFirst: on MySQL a migration's data statements
// run in a transaction with its record, which a schema statement would
// commit early; each file keeps its schema statements first.
func TestMySQLMigrationsSchemaFirst(t *testing.T) {
	for _, m := range Migrations(MySQL) {
		stmts := statements(m.SQL)
		for _, stmt := range stmts[leadingSchema(stmts):] {
			assert.False(t, isSchema(stmt), "%04d_%s: %s", m.Version, m.Name, stmt)
		}
	}
}

func TestStatementKinds(t *testing.T) {
	tests := []struct {
		stmt          string
		schema        bool
		table, column string // of an ADD COLUMN without IF NOT EXISTS
	}{
		{"CREATE TABLE IF NOT EXISTS k (id TEXT)", true, "", ""},
		{"ALTER TABLE k_keys ADD COLUMN version INTEGER NOT NULL DEFAULT 1", true, "k_keys", "version"},
		{"alter table k_keys\n  add column ancestors TEXT", true, "k_keys", "ancestors"},
		{"ALTER TABLE k_keys ADD COLUMN IF NOT EXISTS version BIGINT", true, "k_keys", "IF"},
		{"ALTER TABLE k_keys MODIFY COLUMN created_by VARCHAR(320) NOT NULL", true, "", ""},
		{"UPDATE k_keys SET ancestors = parent_id", false, "", ""},
		{"INSERT INTO k VALUES (1)", false, "", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.schema, isSchema(tt.stmt), tt.stmt)
		m := addColumn.FindStringSubmatch(tt.stmt)
		if tt.table == "" {
			assert.Nil(t, m, tt.stmt)
			continue
		}
		if assert.NotNil(t, m, tt.stmt) {
			assert.Equal(t, []string{tt.table, tt.column}, m[1:], tt.stmt)
		}
	}
}
