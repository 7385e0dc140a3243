package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the app imports the driver; sqlstore does not

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/policy"
)

// Example wires a SQLite file into a [keys.Manager]: the app opens the
// database with its driver, creates the Store and runs Migrate once at
// start. For Postgres, open "pgx" (github.com/jackc/pgx/v5/stdlib) and pass
// sqlstore.Postgres; for MySQL, "mysql" and sqlstore.MySQL.
func Example() {
	dir, err := os.MkdirTemp("", "keycap-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dsn := "file:" + filepath.Join(dir, "keycap.db") + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ctx := context.Background()
	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.Options{}) // tables keycap_keys, keycap_events, keycap_schema_migrations
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	readWrite := policy.MustParse("invoices:read", "invoices:write")
	pol, err := policy.New(policy.Config{Max: readWrite, Default: readWrite})
	if err != nil {
		log.Fatal(err)
	}
	manager, err := keys.NewManager(keys.Config{
		Store:  store,
		Policy: pol,
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
			return policy.Subject{ID: id}, nil // look the user up in your app
		}),
		Secret: []byte("an example secret of at least 32 bytes; read yours from the environment"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer manager.Close()

	created, token, err := manager.Create(ctx, keys.CreateRequest{Owner: "user-1", Name: "CI"})
	if err != nil {
		log.Fatal(err)
	}
	verified, err := manager.Verify(ctx, token, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(verified.ID == created.ID, verified.Permissions)
	// Output: true invoices:read invoices:write
}
